// Package podlogs reads container logs through the API server's pods/log
// subresource, bounded in bytes.
package podlogs

import (
	"context"
	"io"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
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
	opts := &corev1.PodLogOptions{Container: container}
	if limitBytes > 0 {
		opts.LimitBytes = &limitBytes
	}
	stream, err := r.Clientset.CoreV1().Pods(namespace).GetLogs(pod, opts).Stream(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = stream.Close() }()
	if limitBytes > 0 {
		return io.ReadAll(io.LimitReader(stream, limitBytes))
	}
	return io.ReadAll(stream)
}
