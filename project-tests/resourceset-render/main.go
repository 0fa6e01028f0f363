// resourceset-render executes ResourceSet resource templates the way flux-operator's
// builder does (internal/builder/resourceset.go): Go text/template with "<<" ">>"
// delimiters, the input set behind the `inputs` function, and missingkey=error, so a key
// missing from an input fails the render.
//
// flux-operator also loads slim-sprig; only the standard library is available offline, so
// the functions below are the subset of slim-sprig this project's ResourceSet uses. A
// template that calls any other function fails to parse, with its name in the error.
//
// Input (stdin): a JSON array of {"template": "<YAML>", "inputs": {...}}.
// Output (stdout): a JSON array of {"output": "<YAML>"} or {"error": "..."}, in order.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/template"
)

type job struct {
	Template string         `json:"template"`
	Inputs   map[string]any `json:"inputs"`
}

type result struct {
	Output string `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
}

func main() {
	var jobs []job
	if err := json.NewDecoder(os.Stdin).Decode(&jobs); err != nil {
		fmt.Fprintln(os.Stderr, "resourceset-render: cannot read jobs:", err)
		os.Exit(2)
	}
	results := make([]result, len(jobs))
	for i, j := range jobs {
		out, err := render(j.Template, j.Inputs)
		if err != nil {
			results[i].Error = err.Error()
		} else {
			results[i].Output = out
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, "resourceset-render:", err)
		os.Exit(2)
	}
}

func render(text string, inputs map[string]any) (string, error) {
	tp, err := template.New("resourceset").
		Delims("<<", ">>").
		Funcs(sprigSubset).
		Funcs(template.FuncMap{"inputs": func() any { return inputs }}).
		Option("missingkey=error").
		Parse(text)
	if err != nil {
		return "", fmt.Errorf("failed to parse template: %w", err)
	}
	var b strings.Builder
	if err := tp.Execute(&b, nil); err != nil {
		return "", fmt.Errorf("failed to execute template: %w", err)
	}
	return b.String(), nil
}

// Same results as slim-sprig's functions of the same names for the values inputs hold
// (strings, JSON numbers, booleans).
var sprigSubset = template.FuncMap{
	"quote": func(values ...any) string {
		out := make([]string, 0, len(values))
		for _, v := range values {
			if v != nil {
				out = append(out, fmt.Sprintf("%q", toString(v)))
			}
		}
		return strings.Join(out, " ")
	},
	"int": func(v any) int {
		switch n := v.(type) {
		case float64:
			return int(n)
		case bool:
			if n {
				return 1
			}
			return 0
		default:
			i, err := strconv.ParseInt(toString(v), 0, 64)
			if err != nil {
				f, ferr := strconv.ParseFloat(toString(v), 64)
				if ferr != nil {
					return 0
				}
				return int(f)
			}
			return int(i)
		}
	},
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"default": func(fallback any, given ...any) any {
		if len(given) == 0 || given[0] == nil || given[0] == "" {
			return fallback
		}
		return given[0]
	},
}

func toString(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case float64:
		return strconv.FormatFloat(s, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}
