//go:build tools

// Package tools pins promtool's module version for hack/promtool/build.sh.
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
