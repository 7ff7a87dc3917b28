package odooharness

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"time"
)

// lockedBuffer collects a process's output while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

var httpClient = &http.Client{Timeout: 60 * time.Second}

// Get fetches url and returns the status code and body.
func Get(url string) (int, []byte, error) {
	resp, err := httpClient.Get(url) //nolint:noctx // test harness, local server
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}
