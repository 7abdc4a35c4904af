package main

import (
	"fmt"
	"os"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// parseStages parses a Dockerfile into its build stages, collecting BuildKit's lint warnings.
func parseStages(path string) ([]instructions.Stage, []string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer file.Close()
	result, err := parser.Parse(file)
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	lint := linter.New(&linter.Config{
		Warn: func(rule, description, url, message string, location []parser.Range) {
			line := 0
			if len(location) > 0 {
				line = location[0].Start.Line
			}
			warnings = append(warnings, fmt.Sprintf("%s:%d: %s: %s", path, line, rule, message))
		},
	})
	stages, _, err := instructions.Parse(result.AST, lint)
	return stages, warnings, err
}

func hasStage(path, target string) bool {
	stages, _, err := parseStages(path)
	if err != nil {
		return false
	}
	for _, stage := range stages {
		if target == "" || stage.Name == target {
			return true
		}
	}
	return false
}

// lintDockerfile parses a Dockerfile as BuildKit does; any parse error or lint warning is a problem,
// and so is a final stage that runs as root (no USER) or has no HEALTHCHECK.
func lintDockerfile(path string) []string {
	stages, problems, err := parseStages(path)
	if err != nil {
		return []string{err.Error()}
	}
	names := []string{}
	for _, stage := range stages {
		names = append(names, stage.Name)
	}
	for _, stage := range stages {
		if stage.Name != "pool" && stage.Name != "edge" {
			continue
		}
		user, health := false, false
		for _, command := range stage.Commands {
			switch command.(type) {
			case *instructions.UserCommand:
				user = true
			case *instructions.HealthCheckCommand:
				health = true
			}
		}
		if !user {
			problems = append(problems, fmt.Sprintf("stage %s runs as root (no USER)", stage.Name))
		}
		if stage.Name == "pool" && !health {
			problems = append(problems, "stage pool has no HEALTHCHECK")
		}
	}
	if len(problems) == 0 {
		fmt.Printf("dockerfile ok: stages %v\n", names)
	}
	return problems
}
