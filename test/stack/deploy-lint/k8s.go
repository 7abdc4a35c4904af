// k8s.go: Kubernetes manifests, checked offline: every document decodes strictly (unknown or
// mistyped fields fail) into the typed API object of its kind, and the set hangs together (a
// Deployment serving a port has a readiness probe, pods run as non-root without privilege escalation,
// PDBs and Services select an existing Deployment's pods, the HPA targets an existing Deployment).
package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

type manifests struct {
	deployments []appsv1.Deployment
	services    []corev1.Service
	pdbs        []policyv1.PodDisruptionBudget
	hpas        []autoscalingv2.HorizontalPodAutoscaler
	configMaps  []corev1.ConfigMap
}

func decode(doc []byte, set *manifests) error {
	var h header
	if err := yaml.Unmarshal(doc, &h); err != nil {
		return err
	}
	switch h.APIVersion + "/" + h.Kind {
	case "apps/v1/Deployment":
		var d appsv1.Deployment
		if err := yaml.UnmarshalStrict(doc, &d); err != nil {
			return err
		}
		set.deployments = append(set.deployments, d)
	case "v1/Service":
		var s corev1.Service
		if err := yaml.UnmarshalStrict(doc, &s); err != nil {
			return err
		}
		set.services = append(set.services, s)
	case "policy/v1/PodDisruptionBudget":
		var p policyv1.PodDisruptionBudget
		if err := yaml.UnmarshalStrict(doc, &p); err != nil {
			return err
		}
		set.pdbs = append(set.pdbs, p)
	case "autoscaling/v2/HorizontalPodAutoscaler":
		var a autoscalingv2.HorizontalPodAutoscaler
		if err := yaml.UnmarshalStrict(doc, &a); err != nil {
			return err
		}
		set.hpas = append(set.hpas, a)
	case "v1/ConfigMap":
		var c corev1.ConfigMap
		if err := yaml.UnmarshalStrict(doc, &c); err != nil {
			return err
		}
		set.configMaps = append(set.configMaps, c)
	default:
		return fmt.Errorf("unsupported kind %s %s", h.APIVersion, h.Kind)
	}
	return nil
}

func matchesDeployment(set *manifests, selector map[string]string) bool {
	for _, d := range set.deployments {
		if labels.SelectorFromSet(selector).Matches(labels.Set(d.Spec.Template.Labels)) {
			return true
		}
	}
	return false
}

func check(set *manifests) []string {
	var problems []string
	for _, d := range set.deployments {
		sel := d.Spec.Selector
		if sel == nil || !labels.SelectorFromSet(sel.MatchLabels).Matches(labels.Set(d.Spec.Template.Labels)) {
			problems = append(problems, fmt.Sprintf("deployment %s: selector does not match its pod labels", d.Name))
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			if len(c.Ports) > 0 && c.ReadinessProbe == nil {
				problems = append(problems, fmt.Sprintf("deployment %s: container %s serves a port without a readinessProbe", d.Name, c.Name))
			}
			if c.SecurityContext == nil || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
				problems = append(problems, fmt.Sprintf("deployment %s: container %s may escalate privileges", d.Name, c.Name))
			}
		}
		pod := d.Spec.Template.Spec.SecurityContext
		if pod == nil || pod.RunAsNonRoot == nil || !*pod.RunAsNonRoot {
			problems = append(problems, fmt.Sprintf("deployment %s: pods may run as root", d.Name))
		}
	}
	for _, s := range set.services {
		if !matchesDeployment(set, s.Spec.Selector) {
			problems = append(problems, fmt.Sprintf("service %s selects no deployment's pods", s.Name))
		}
	}
	for _, p := range set.pdbs {
		if p.Spec.Selector == nil || !matchesDeployment(set, p.Spec.Selector.MatchLabels) {
			problems = append(problems, fmt.Sprintf("pdb %s selects no deployment's pods", p.Name))
		}
	}
	for _, a := range set.hpas {
		found := false
		for _, d := range set.deployments {
			found = found || (a.Spec.ScaleTargetRef.Kind == "Deployment" && a.Spec.ScaleTargetRef.Name == d.Name)
		}
		if !found {
			problems = append(problems, fmt.Sprintf("hpa %s targets no deployment here", a.Name))
		}
	}
	return problems
}

func lintK8s(paths []string) []string {
	set := &manifests{}
	var problems []string
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		for i, doc := range bytes.Split(raw, []byte("\n---\n")) {
			if strings.TrimSpace(string(doc)) == "" {
				continue
			}
			if err := decode(doc, set); err != nil {
				problems = append(problems, fmt.Sprintf("%s document %d: %v", path, i+1, err))
			}
		}
	}
	problems = append(problems, check(set)...)
	if len(problems) == 0 {
		fmt.Printf("k8s ok: %d deployments, %d services, %d pdbs, %d hpas, %d configmaps\n",
			len(set.deployments), len(set.services), len(set.pdbs), len(set.hpas), len(set.configMaps))
	}
	return problems
}
