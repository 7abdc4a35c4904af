// Command deploy-lint checks the deploy files offline, with the parsers the tools themselves use:
//
//	deploy-lint k8s FILE...        Kubernetes manifests (k8s.io/api types, strict)
//	deploy-lint compose FILE       a Compose file (compose-go: the Compose spec's schema, every profile)
//	deploy-lint dockerfile FILE    a Dockerfile (BuildKit's parser and instruction checks)
//
// It prints each problem on a line and exits 1 if there is any.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: deploy-lint k8s|compose|dockerfile FILE...")
		os.Exit(2)
	}
	var problems []string
	switch os.Args[1] {
	case "k8s":
		problems = lintK8s(os.Args[2:])
	case "compose":
		problems = lintCompose(os.Args[2])
	case "dockerfile":
		problems = lintDockerfile(os.Args[2])
	default:
		fmt.Fprintf(os.Stderr, "unknown kind %q\n", os.Args[1])
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}
