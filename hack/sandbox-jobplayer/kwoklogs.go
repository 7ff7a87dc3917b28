package main

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// serveLogs makes `kubectl logs` of the pod's first container serve the
// real process's output: a kwok Logs object named after the pod (kwok
// selects logs by pod name), owned by it so the garbage collector removes
// it, pointing at the output file (followed) and the previous run's.
// Further containers keep kwok's default (the ClusterLogs of kwok.yaml).
func (p *player) serveLogs(ctx context.Context, pod *corev1.Pod, output, previous string) error {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1",
		"kind":       "Logs",
		"metadata": map[string]any{
			"name":      pod.Name,
			"namespace": pod.Namespace,
			"labels":    map[string]any{"app.kubernetes.io/managed-by": "odoo-operator-sandbox"},
			"ownerReferences": []any{map[string]any{
				"apiVersion": "v1", "kind": "Pod", "name": pod.Name, "uid": string(pod.UID),
			}},
		},
		"spec": map[string]any{"logs": []any{map[string]any{
			"containers":       []any{pod.Spec.Containers[0].Name},
			"logsFile":         output,
			"previousLogsFile": previous,
			"follow":           true,
		}}},
	}}
	return p.Patch(ctx, u, client.Apply, client.FieldOwner("sandbox-jobplayer"), client.ForceOwnership) //nolint:staticcheck // unstructured apply
}
