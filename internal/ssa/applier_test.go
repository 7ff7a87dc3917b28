package ssa

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
)

func TestContains(t *testing.T) {
	tests := []struct {
		name       string
		have, want string
		contains   bool
	}{
		{"equal", `{"a":1}`, `{"a":1}`, true},
		{"extra keys in have are ignored (defaults, status, others' fields)", `{"a":1,"b":{"c":2},"status":{"phase":"Bound"}}`, `{"a":1}`, true},
		{"a value differs", `{"a":2}`, `{"a":1}`, false},
		{"a wanted key is missing", `{"b":1}`, `{"a":1}`, false},
		{"nested map holds", `{"spec":{"x":"1","y":"2"}}`, `{"spec":{"x":"1"}}`, true},
		{"nested value differs", `{"spec":{"x":"2"}}`, `{"spec":{"x":"1"}}`, false},
		{"lists contain element by element", `{"l":[{"n":"a","d":1},{"n":"b"}]}`, `{"l":[{"n":"a"},{"n":"b"}]}`, true},
		{"a list with another length does not", `{"l":[{"n":"a"},{"n":"b"},{"n":"c"}]}`, `{"l":[{"n":"a"},{"n":"b"}]}`, false},
		{"list order matters", `{"l":["b","a"]}`, `{"l":["a","b"]}`, false},
		{"a map where a scalar is wanted", `{"a":{"b":1}}`, `{"a":1}`, false},
		{"null wanted, key absent", `{}`, `{"a":null}`, false},
		{"empty map wanted", `{"a":{}}`, `{"a":{}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var have, want any
			if err := json.Unmarshal([]byte(tt.have), &have); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if got := contains(have, want); got != tt.contains {
				t.Fatalf("contains(%s, %s) = %v, want %v", tt.have, tt.want, got, tt.contains)
			}
		})
	}
}

// TestHoldsIgnoresWhatOthersWrite: a claim the cluster bound (status, a
// volume name, annotations and a finalizer added by others) still holds
// the configuration applied to it; a changed size does not.
func TestHoldsIgnoresWhatOthersWrite(t *testing.T) {
	desired := corev1ac.PersistentVolumeClaim("shop-filestore", "tenant").
		WithLabels(map[string]string{"app": "shop"}).
		WithSpec(corev1ac.PersistentVolumeClaimSpec().
			WithAccessModes(corev1.ReadWriteMany).
			WithResources(corev1ac.VolumeResourceRequirements().
				WithRequests(corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("2Gi")})))
	body, err := json.Marshal(desired)
	if err != nil {
		t.Fatal(err)
	}
	bound := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{
			Name: "shop-filestore", Namespace: "tenant", ResourceVersion: "42", UID: "u1",
			Labels:      map[string]string{"app": "shop", "added-by-someone": "x"},
			Annotations: map[string]string{"pv.kubernetes.io/bind-completed": "yes"},
			Finalizers:  []string{"kubernetes.io/pvc-protection"},
		},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("2Gi")}},
			VolumeName:  "pv-1",
		},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound},
	}
	if !holds(bound, body) {
		t.Fatal("a bound claim with the applied values does not hold them")
	}
	resized := bound.DeepCopy()
	resized.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("1Gi")
	if holds(resized, body) {
		t.Fatal("a claim whose size someone changed still holds the applied configuration: drift would not be corrected")
	}
	relabelled := bound.DeepCopy()
	delete(relabelled.Labels, "app")
	if holds(relabelled, body) {
		t.Fatal("a claim that lost the operator's label still holds the applied configuration")
	}
}
