//go:build tools

// The command this module builds; the blank import keeps it in go.mod and go.sum.
package tools

import _ "github.com/traefik/traefik/v3/cmd/traefik"
