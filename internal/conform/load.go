package conform

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/yamldoc"
)

//go:embed cases
var builtin embed.FS

// LoadBuiltin returns the cases embedded in the binary
// (internal/conform/cases/**/*.yaml), sorted by ID.
func LoadBuiltin() ([]*Case, error) {
	all, err := loadFS(builtin, "cases", "cases")
	return sides(all, ""), err
}

// LoadBuiltinClient returns the embedded client cases (side: client, ids
// client.…), sorted by ID: those "sioconform client run" plays.
func LoadBuiltinClient() ([]*Case, error) {
	all, err := loadFS(builtin, "cases", "cases")
	return sides(all, "client"), err
}

// sides keeps the cases of one side ("" = the server cases).
func sides(all []*Case, side string) []*Case {
	var out []*Case
	for _, c := range all {
		if c.Side == side {
			out = append(out, c)
		}
	}
	return out
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
					Problem: fmt.Sprintf("duplicate id %q (first defined at %s:%d)", c.ID, prev.File, prev.Line)}
			}
			seen[c.ID] = c
			all = append(all, c)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	return all, nil
}

var idRE = regexp.MustCompile(`^(client\.)?(eio4|eio3|sio5|sio4)(\.[a-z0-9_-]+)+$`)

// serverPaths maps the server kinds of docs/conformance.md §2 to their path.
var serverPaths = map[string]string{"engineio": "/engine.io/", "socketio": "/socket.io/"}

// caseHeader holds the settings a file or a case may carry.
type caseHeader struct {
	Server  *string   `yaml:"server"`
	EIO     *int      `yaml:"eio"`
	Path    *string   `yaml:"path"`
	Timeout *duration `yaml:"timeout"`
	// Side and Transport are for client cases (docs/conformance.md §6.7).
	Side      *string `yaml:"side"`
	Transport *string `yaml:"transport"`
}

// caseDoc decodes one case onto the file's settings (def) into c.
type caseDoc struct {
	def Case
	c   *Case
}

// parseFile decodes one case file; every problem found is reported, one
// "file:line: field: problem" per line.
func parseFile(name string, data []byte) ([]*Case, error) {
	root, err := yamldoc.Parse(name, data)
	if err != nil {
		if e, ok := err.(*LoadError); ok && e.Line > 0 && e.Problem != "empty file" {
			// Case-file messages have always kept yaml's own wording.
			e.Problem = fmt.Sprintf("yaml: line %d: %s", e.Line, e.Problem)
		}
		return nil, err
	}
	d := &yamldoc.Decoder{File: name, Lines: map[string]int{}}
	if root.Kind != yaml.MappingNode {
		d.Errorf(root, "", "want a mapping, got %s", yamldoc.Describe(root))
		return nil, d.Err()
	}
	// The file's settings first: each case starts from them.
	var h caseHeader
	d.Decode(&yaml.Node{Kind: yaml.MappingNode, Line: root.Line, Content: without(root, "cases")}, "", &h)
	def := Case{Server: "engineio", EIO: 4, Timeout: DefaultTimeout}
	h.apply(d, "", "", &def)
	var out []*Case
	switch list := lookup(root, "cases"); {
	case list == nil:
		d.Errorf(root, "cases", "missing")
	case list.Kind != yaml.SequenceNode:
		d.Errorf(list, "cases", "want a list, got %s", yamldoc.Describe(list))
	default:
		for i, cn := range list.Content {
			cd := caseDoc{def: def}
			d.Decode(cn, yamldoc.Index("cases", i), &cd)
			out = append(out, cd.c)
		}
	}
	if err := d.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// lookup returns the value of key in the mapping n, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// exactlyOne reports whether the mapping n holds exactly one of keys, and
// says so at n when it does not. A key counts when present, even if its
// value is refused: one message is enough.
func exactlyOne(d *yamldoc.Decoder, n *yaml.Node, field string, keys ...string) bool {
	count := 0
	for _, k := range keys {
		if lookup(n, k) != nil {
			count++
		}
	}
	if count != 1 {
		d.Errorf(n, field, "want exactly one of %s", strings.Join(keys, ", "))
	}
	return count == 1
}

// without returns the entries of the mapping n but key's: for a key
// decoded on its own, later. n itself is left as is.
func without(n *yaml.Node, key string) []*yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	var out []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != key {
			out = append(out, n.Content[i], n.Content[i+1])
		}
	}
	return out
}

// apply checks the settings decoded at path and applies them to c; field
// names them in messages.
func (h *caseHeader) apply(d *yamldoc.Decoder, path, field string, c *Case) {
	at := func(key, format string, args ...any) {
		d.ErrorAt(d.Lines[yamldoc.Join(path, key)], yamldoc.Join(field, key), format, args...)
	}
	if h.Server != nil {
		if _, known := serverPaths[*h.Server]; !known {
			at("server", "want engineio or socketio, got %q", *h.Server)
		} else {
			c.Server = *h.Server
		}
	}
	if h.EIO != nil {
		if *h.EIO != 3 && *h.EIO != 4 {
			at("eio", "want 3 or 4, got %d", *h.EIO)
		} else {
			c.EIO = *h.EIO
		}
	}
	pathSet := false
	if h.Path != nil {
		if !strings.HasPrefix(*h.Path, "/") {
			at("path", "must start with /")
		} else {
			c.Path, pathSet = *h.Path, true
		}
	}
	if h.Timeout != nil {
		if *h.Timeout == 0 {
			at("timeout", "must be positive")
		} else {
			c.Timeout = time.Duration(*h.Timeout)
		}
	}
	if h.Side != nil {
		if *h.Side != "client" && *h.Side != "server" {
			at("side", "want client or server, got %q", *h.Side)
		} else if *h.Side == "client" {
			c.Side = "client"
			if h.Server == nil {
				c.Server = "socketio"
			}
		} else {
			c.Side = ""
		}
	}
	if h.Transport != nil {
		switch *h.Transport {
		case "polling", "websocket", "upgrade":
			c.Transport = *h.Transport
		default:
			at("transport", "want polling, websocket or upgrade, got %q", *h.Transport)
		}
	}
	if !pathSet && (c.Path == "" || h.Server != nil || h.Side != nil) {
		c.Path = serverPaths[c.Server]
	}
}

// UnmarshalYAMLDoc decodes one case. Its keys and its id are named by the
// case's index; once the id is known, the rest is named by the id, which
// is easier to find in a file than an index.
func (cd *caseDoc) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		ID          string            `yaml:"id"`
		Description string            `yaml:"description"`
		Spec        string            `yaml:"spec"`
		Strength    string            `yaml:"strength"`
		Rule        string            `yaml:"rule"`
		Official    string            `yaml:"official"`
		Header      caseHeader        `yaml:",inline"`
		Serial      bool              `yaml:"serial"`
		Slow        bool              `yaml:"slow"`
		OnFail      *string           `yaml:"on_fail"`
		Env         map[string]string `yaml:"env"`
		Steps       *yaml.Node        `yaml:"steps"`
	}
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, field, "want a mapping, got %s", yamldoc.Describe(n))
		return
	}
	d.Decode(n, field, &b)
	for _, req := range []string{"id", "description", "spec", "steps"} {
		if lookup(n, req) == nil {
			d.Errorf(n, yamldoc.Join(field, req), "missing")
		}
	}
	c := cd.def
	c.File, c.Line = d.File, n.Line
	c.ID, c.Description, c.Spec, c.Official, c.Serial = b.ID, b.Description, b.Spec, b.Official, b.Serial
	c.Rule, c.Slow = b.Rule, b.Slow
	path := field
	if idRE.MatchString(c.ID) {
		field = c.ID
	} else if id := lookup(n, "id"); id != nil && id.Kind == yaml.ScalarNode && !yamldoc.IsNull(id) {
		d.Fieldf(yamldoc.Join(path, "id"), "%q is not <suite>.<area>…: lower case, dots, suite eio4, eio3, sio5 or sio4", c.ID)
	}
	b.Header.apply(d, path, field, &c)
	if idRE.MatchString(c.ID) && (c.Side == "client") != strings.HasPrefix(c.ID, "client.") {
		d.Fieldf(yamldoc.Join(path, "id"), "%q: client cases (side: client), and only they, have ids client.…", c.ID)
	}
	if len(b.Env) > 0 {
		checkClientEnv(d, path, field, &c, b.Env)
	}
	if c.Side == "client" && c.Transport == "" {
		d.Fieldf(yamldoc.Join(field, "transport"), "a client case says its transport: polling, websocket or upgrade")
	}
	switch st := Strength(b.Strength); st {
	case Must, Should, Open, MustRef:
		c.Strength = st
	case "":
		// A case file written before strengths grades as it did then: a
		// broken rule fails. The built-in cases all say theirs
		// (TestBuiltinCasesSayTheirRule).
		c.Strength = Must
	default:
		d.ErrorAt(d.Lines[yamldoc.Join(path, "strength")], yamldoc.Join(field, "strength"),
			"want must, should, open or must-ref, got %q", b.Strength)
	}
	if b.OnFail != nil {
		// One way to grade: the strength of the rule. A case-level
		// on_fail: info was what strength: open now says.
		d.ErrorAt(d.Lines[yamldoc.Join(path, "on_fail")], yamldoc.Join(field, "on_fail"),
			"a case has no on_fail; say how strong its rule is with strength: must, should or open (open: a difference is info)")
	}
	if b.Steps != nil {
		if b.Steps.Kind != yaml.SequenceNode || len(b.Steps.Content) == 0 {
			d.Errorf(b.Steps, yamldoc.Join(field, "steps"), "want a non-empty list")
		} else {
			c.steps = decodeSteps(d, b.Steps, yamldoc.Join(field, "steps"))
			checkNames(d, c.steps, field)
		}
	}
	cd.c = &c
}

// checkNames verifies that every wait/pending names an earlier async step,
// so a typo is a load error rather than a confusing run failure.
func checkNames(d *yamldoc.Decoder, steps []*step, field string) {
	async := map[string]bool{}
	var walk func([]*step)
	walk = func(list []*step) {
		for _, s := range list {
			if s.async {
				async[s.name] = true
			}
			if w, ok := s.act.(awaiter); ok && w.awaits() != "" && !async[w.awaits()] {
				d.ErrorAt(s.line, yamldoc.Join(field, s.kind), "no earlier async step named %q", w.awaits())
			}
			walk(subSteps(s))
		}
	}
	walk(steps)
}
