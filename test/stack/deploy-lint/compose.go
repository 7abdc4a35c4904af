package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/compose-spec/compose-go/v2/cli"
)

// lintCompose loads a Compose file with every profile enabled, validating it against the Compose
// specification's schema, and checks that services built from a Dockerfile name an existing target.
func lintCompose(path string) []string {
	options, err := cli.NewProjectOptions([]string{path},
		cli.WithWorkingDirectory(filepath.Dir(path)),
		cli.WithProfiles([]string{"*"}),
		cli.WithName("tiergate"),
		cli.WithInterpolation(true),
	)
	if err != nil {
		return []string{err.Error()}
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	names := make([]string, 0, len(project.Services))
	for name, service := range project.Services {
		names = append(names, name)
		if service.Build == nil {
			continue
		}
		dockerfile := filepath.Join(service.Build.Context, service.Build.Dockerfile)
		if service.Build.Dockerfile == "" {
			dockerfile = filepath.Join(service.Build.Context, "Dockerfile")
		}
		if !hasStage(dockerfile, service.Build.Target) {
			problems = append(problems, fmt.Sprintf("service %s builds target %q, which %s lacks", name, service.Build.Target, dockerfile))
		}
	}
	if len(problems) == 0 {
		sort.Strings(names)
		fmt.Printf("compose ok: %d services %v\n", len(names), names)
	}
	return problems
}
