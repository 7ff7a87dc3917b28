package main

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// criLog writes a process's output in the container runtime's log format
// ("<RFC 3339 time> stdout|stderr F <line>"), which is what kwok serves
// for `kubectl logs` (and what a kubelet reads), and keeps the raw tail
// for a FallbackToLogsOnError termination message.
type criLog struct {
	mu   sync.Mutex
	out  io.Writer
	tail []byte
}

const criTailKeep = 8192

// stream is the writer for one of the process's streams.
func (c *criLog) stream(name string) *criStream { return &criStream{log: c, name: name} }

type criStream struct {
	log     *criLog
	name    string
	partial []byte
}

func (s *criStream) Write(p []byte) (int, error) {
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		if err := s.log.line(s.name, s.partial[:i]); err != nil {
			return 0, err
		}
		s.partial = s.partial[i+1:]
	}
	return len(p), nil
}

// flush writes a last line without its newline.
func (s *criStream) flush() {
	if len(s.partial) > 0 {
		_ = s.log.line(s.name, s.partial)
		s.partial = nil
	}
}

func (c *criLog) line(stream string, b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tail = append(append(c.tail, b...), '\n')
	if len(c.tail) > 2*criTailKeep {
		c.tail = append([]byte{}, c.tail[len(c.tail)-criTailKeep:]...)
	}
	_, err := io.WriteString(c.out, time.Now().UTC().Format(time.RFC3339Nano)+" "+stream+" F "+string(b)+"\n")
	return err
}

func (c *criLog) rawTail() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.tail)
}
