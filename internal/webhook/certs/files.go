package certs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const (
	// dataLink is the symlink to the current generation of files, as in a
	// kubelet Secret volume.
	dataLink = "..data"
	// generationPrefix starts the name of each generation's directory.
	generationPrefix = "..certs-"
)

// writeFiles makes dir/<name> hold files[name] for every name, all at once,
// with the layout kubelet uses for Secret volumes: dir/tls.crt is a symlink
// to ..data/tls.crt, ..data a symlink to a directory holding one generation
// of files. A new generation is written beside the old one, ..data is
// swapped by rename(2), and the old generation is removed.
//
// Why not write each file in place: controller-runtime's certwatcher would
// read a new certificate with the old key in between and log an error. Why
// remove the old generation: its files are what certwatcher's inotify
// watches follow through the symlinks, so their removal is the event that
// makes it reload (its 10 s poll is the fallback).
//
// It reports whether anything was written; files already current cost no
// write.
func writeFiles(dir string, files map[string][]byte) (bool, error) {
	if current(dir, files) {
		return false, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	gen, err := os.MkdirTemp(dir, generationPrefix)
	if err != nil {
		return false, err
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(gen, name), content, 0o600); err != nil {
			return false, errors.Join(err, os.RemoveAll(gen))
		}
	}
	old, _ := os.Readlink(filepath.Join(dir, dataLink))
	if err := replaceWithSymlink(filepath.Base(gen), filepath.Join(dir, dataLink)); err != nil {
		return false, errors.Join(err, os.RemoveAll(gen))
	}
	for name := range files {
		target := filepath.Join(dataLink, name)
		if link, err := os.Readlink(filepath.Join(dir, name)); err == nil && link == target {
			continue
		}
		// First run, or a plain file left by something else: replace it
		// by the symlink in one rename.
		if err := replaceWithSymlink(target, filepath.Join(dir, name)); err != nil {
			return true, err
		}
	}
	return true, removeStaleGenerations(dir, filepath.Base(gen), old)
}

// current reports whether every file already has the wanted content.
func current(dir string, files map[string][]byte) bool {
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name)) //nolint:gosec // the operator's own CertDir
		if err != nil || !bytes.Equal(got, want) {
			return false
		}
	}
	return true
}

// replaceWithSymlink atomically makes path a symlink to target.
func replaceWithSymlink(target, path string) error {
	tmp := path + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	return nil
}

// removeStaleGenerations removes every generation but keep: the previous
// one (old) and any left by a crash between MkdirTemp and the swap.
func removeStaleGenerations(dir, keep, old string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), generationPrefix) || e.Name() == keep {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("removing the previous certificates (previous generation %q): %w", old, errors.Join(errs...))
	}
	return nil
}
