// Package podlogs reads container logs through the API server's pods/log
// subresource, bounded in bytes.
package podlogs

import (
	"context"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// Reader reads pod logs with a client-go clientset.
type Reader struct {
	Clientset kubernetes.Interface
}

// New returns a Reader for the API server of cfg.
func New(cfg *rest.Config) (*Reader, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Reader{Clientset: cs}, nil
}

// Read returns at most limitBytes of the container's log.
func (r *Reader) Read(ctx context.Context, namespace, pod, container string, limitBytes int64) ([]byte, error) {
	return r.read(ctx, namespace, pod, &corev1.PodLogOptions{Container: container}, limitBytes)
}

// read streams a log with opts, bounded by limitBytes (0: unbounded) both in
// the request and in what is read back.
func (r *Reader) read(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions, limitBytes int64) ([]byte, error) {
	var body io.Reader
	if limitBytes > 0 {
		opts.LimitBytes = &limitBytes
	}
	stream, err := r.Clientset.CoreV1().Pods(namespace).GetLogs(pod, opts).Stream(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = stream.Close() }()
	body = stream
	if limitBytes > 0 {
		body = io.LimitReader(stream, limitBytes)
	}
	return io.ReadAll(body)
}

// Source lists the running web and cron pods of an instance and reads their
// logs: the log sampler's view of the cluster.
type Source struct {
	Reader *Reader
	// Lister lists pods; pods are not cached by the operator, so this is the
	// API reader.
	Lister client.Reader
}

// Pods returns the running web and cron pods of the instance.
func (s *Source) Pods(ctx context.Context, instance types.NamespacedName) ([]corev1.Pod, error) {
	req, err := labels.NewRequirement(resources.ComponentLabel, selection.In, []string{resources.ComponentWeb, resources.ComponentCron})
	if err != nil {
		return nil, err
	}
	sel := labels.SelectorFromSet(labels.Set{resources.InstanceLabel: instance.Name}).Add(*req)
	list := &corev1.PodList{}
	if err := s.Lister.List(ctx, list, client.InNamespace(instance.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, err
	}
	pods := list.Items[:0]
	for _, p := range list.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			pods = append(pods, p)
		}
	}
	return pods, nil
}

// Logs reads at most limitBytes of the container's log written since since.
func (s *Source) Logs(ctx context.Context, pod *corev1.Pod, container string, since time.Time, limitBytes int64) ([]byte, error) {
	opts := &corev1.PodLogOptions{Container: container}
	if !since.IsZero() {
		t := metav1.NewTime(since)
		opts.SinceTime = &t
	}
	return s.Reader.read(ctx, pod.Namespace, pod.Name, opts, limitBytes)
}
