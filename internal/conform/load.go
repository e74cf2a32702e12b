package conform

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed cases
var builtin embed.FS

// LoadBuiltin returns the cases embedded in the binary
// (internal/conform/cases/**/*.yaml), sorted by ID.
func LoadBuiltin() ([]*Case, error) {
	return loadFS(builtin, "cases", "cases")
}

// LoadDir loads every *.yaml file below dir, sorted by ID. A malformed file
// is reported as "file:line: field: problem".
func LoadDir(dir string) ([]*Case, error) {
	return loadFS(os.DirFS(dir), ".", dir)
}

// loadFS loads every *.yaml under root in fsys; display prefixes the file
// names in messages.
func loadFS(fsys fs.FS, root, display string) ([]*Case, error) {
	var files []string
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("conform: reading cases: %w", err)
	}
	sort.Strings(files)
	var all []*Case
	seen := map[string]*Case{}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("conform: %w", err)
		}
		name := f
		if root == "." {
			name = filepath.Join(display, f)
		}
		cases, err := parseFile(name, data)
		if err != nil {
			return nil, err
		}
		for _, c := range cases {
			if prev, dup := seen[c.ID]; dup {
				return nil, &LoadError{File: c.File, Line: c.Line, Field: "id",
					Msg: fmt.Sprintf("duplicate id %q (first defined at %s:%d)", c.ID, prev.File, prev.Line)}
			}
			seen[c.ID] = c
			all = append(all, c)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	return all, nil
}

var idRE = regexp.MustCompile(`^(eio4|eio3|sio5|sio4)(\.[a-z0-9_-]+)+$`)

// serverPaths maps the server kinds of docs/conformance.md §2 to their path.
var serverPaths = map[string]string{"engineio": "/engine.io/", "socketio": "/socket.io/"}

// parseFile decodes one case file.
func parseFile(name string, data []byte) ([]*Case, error) {
	p := &parser{file: name}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, &LoadError{File: name, Line: yamlErrLine(err), Msg: err.Error()}
	}
	if len(doc.Content) == 0 {
		return nil, &LoadError{File: name, Line: 1, Msg: "empty file"}
	}
	root := doc.Content[0]
	_, top, err := p.mapping(root, "", "server", "eio", "path", "timeout", "cases")
	if err != nil {
		return nil, err
	}
	def := Case{Server: "engineio", EIO: 4, Timeout: DefaultTimeout}
	if err := p.caseHeader(top, "", &def); err != nil {
		return nil, err
	}
	list, ok := top["cases"]
	if !ok {
		return nil, p.errf(root, "cases", "missing")
	}
	if list.Kind != yaml.SequenceNode {
		return nil, p.errf(list, "cases", "want a list, got %s", kindName(list))
	}
	var out []*Case
	for i, cn := range list.Content {
		c, err := p.parseCase(cn, fmt.Sprintf("cases[%d]", i), def)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// yamlErrLine extracts "line N" from a yaml syntax error.
func yamlErrLine(err error) int {
	var n int
	if i := strings.Index(err.Error(), "line "); i >= 0 {
		fmt.Sscanf(err.Error()[i+5:], "%d", &n)
	}
	return n
}

// caseHeader applies the settings a file or a case may carry.
func (p *parser) caseHeader(m map[string]*yaml.Node, field string, c *Case) error {
	pathSet := false
	if n, ok := m["server"]; ok {
		s, err := p.str(n, join(field, "server"))
		if err != nil {
			return err
		}
		if _, known := serverPaths[s]; !known {
			return p.errf(n, join(field, "server"), "want engineio or socketio, got %q", s)
		}
		c.Server = s
	}
	if n, ok := m["eio"]; ok {
		v, err := p.integer(n, join(field, "eio"))
		if err != nil {
			return err
		}
		if v != 3 && v != 4 {
			return p.errf(n, join(field, "eio"), "want 3 or 4, got %d", v)
		}
		c.EIO = v
	}
	if n, ok := m["path"]; ok {
		s, err := p.str(n, join(field, "path"))
		if err != nil {
			return err
		}
		if !strings.HasPrefix(s, "/") {
			return p.errf(n, join(field, "path"), "must start with /")
		}
		c.Path, pathSet = s, true
	}
	if n, ok := m["timeout"]; ok {
		d, err := p.duration(n, join(field, "timeout"))
		if err != nil {
			return err
		}
		if d == 0 {
			return p.errf(n, join(field, "timeout"), "must be positive")
		}
		c.Timeout = d
	}
	if !pathSet && (c.Path == "" || m["server"] != nil) {
		c.Path = serverPaths[c.Server]
	}
	return nil
}

var caseKeys = []string{"id", "description", "spec", "official", "server", "eio", "path", "serial",
	"timeout", "on_fail", "steps"}

func (p *parser) parseCase(n *yaml.Node, field string, def Case) (*Case, error) {
	_, m, err := p.mapping(n, field, caseKeys...)
	if err != nil {
		return nil, err
	}
	c := def
	c.File, c.Line = p.file, n.Line
	for _, req := range []string{"id", "description", "spec", "steps"} {
		if _, ok := m[req]; !ok {
			return nil, p.errf(n, join(field, req), "missing")
		}
	}
	if c.ID, err = p.str(m["id"], join(field, "id")); err != nil {
		return nil, err
	}
	if !idRE.MatchString(c.ID) {
		return nil, p.errf(m["id"], join(field, "id"), "%q is not <suite>.<area>…: lower case, dots, suite eio4, eio3, sio5 or sio4", c.ID)
	}
	field = c.ID // later messages name the case, which is easier to find than an index
	if c.Description, err = p.str(m["description"], join(field, "description")); err != nil {
		return nil, err
	}
	if c.Spec, err = p.str(m["spec"], join(field, "spec")); err != nil {
		return nil, err
	}
	if o, ok := m["official"]; ok {
		if c.Official, err = p.str(o, join(field, "official")); err != nil {
			return nil, err
		}
	}
	if err := p.caseHeader(m, field, &c); err != nil {
		return nil, err
	}
	if s, ok := m["serial"]; ok {
		if c.Serial, err = p.boolean(s, join(field, "serial")); err != nil {
			return nil, err
		}
	}
	if o, ok := m["on_fail"]; ok {
		if c.OnFail, err = p.str(o, join(field, "on_fail")); err != nil {
			return nil, err
		}
		if c.OnFail != "info" {
			return nil, p.errf(o, join(field, "on_fail"), "a case's on_fail must be info, got %q", c.OnFail)
		}
	}
	steps := m["steps"]
	if steps.Kind != yaml.SequenceNode || len(steps.Content) == 0 {
		return nil, p.errf(steps, join(field, "steps"), "want a non-empty list")
	}
	for i, sn := range steps.Content {
		s, err := p.parseStep(sn, fmt.Sprintf("%s.steps[%d]", field, i))
		if err != nil {
			return nil, err
		}
		c.steps = append(c.steps, s)
	}
	if err := checkNames(p, c.steps, field); err != nil {
		return nil, err
	}
	return &c, nil
}

// checkNames verifies that every wait/pending names an earlier async step,
// so a typo is a load error rather than a confusing run failure.
func checkNames(p *parser, steps []*step, field string) error {
	async := map[string]bool{}
	var walk func([]*step) error
	walk = func(list []*step) error {
		for _, s := range list {
			if s.async {
				async[s.name] = true
			}
			for _, ref := range []string{s.wait, s.pending} {
				if ref != "" && !async[ref] {
					return &LoadError{File: p.file, Line: s.line, Field: join(field, s.kind),
						Msg: fmt.Sprintf("no earlier async step named %q", ref)}
				}
			}
			if err := walk(s.parallel); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(steps)
}
