// Package k8s renders the Kubernetes manifests of a sioload run split into
// execution segments (sioload k8s): a ConfigMap holding the scenario, a
// PersistentVolumeClaim for the results, an Indexed Job whose pod I runs
// "sioload run --segment I/N" (I from JOB_COMPLETION_INDEX), and a merge
// Job that waits for the N parts' files and merges them with "sioload
// report" into one run's JSON, summary and HTML report.
//
// The manifests come from a text/template, not from typed k8s.io/api
// values: those types would make the Kubernetes API machinery a
// dependency of the sioload binary for a few hundred bytes of YAML. The
// tests decode every manifest strictly into the k8s.io/api types, which
// keeps the templates valid.
package k8s

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Paths and images the manifests share with the Dockerfile and the docs.
const (
	// Binary is where the image holds sioload (the Dockerfile's COPY).
	Binary = "/usr/local/bin/sioload"
	// ScenarioDir is where the ConfigMap is mounted.
	ScenarioDir = "/scenario"
	// ResultsDir is where the claim's folder for this run is mounted.
	ResultsDir = "/results"
	// WaitImage runs wait-parts.sh: the sioload image (distroless) has no
	// shell, and a shell loop over files needs nothing else.
	WaitImage = "busybox:1.37"
	// UID is the non-root user of the pods, the distroless "nonroot" user
	// the Dockerfile runs as.
	UID = 65532
	// MaxParallelism is Kubernetes' limit on an Indexed Job's completions.
	MaxParallelism = 100000
	// maxName leaves room for the "-scenario" suffix and the pods' names
	// (NAME-I-xxxxx) within a 63-character label.
	maxName = 40
)

//go:embed manifests.yaml.tmpl
var manifests string

//go:embed wait-parts.sh
var waitScript string

// WaitScript is the merge step's wait script, as the ConfigMap holds it.
func WaitScript() string { return waitScript }

var tmpl = template.Must(template.New("k8s").Funcs(template.FuncMap{"q": quote, "literal": literal, "meta": meta}).Parse(manifests))

// Options say what to render. Render checks them.
type Options struct {
	// Name is the base name of every object (a DNS-1123 label of at most
	// 40 characters): the Job is NAME, the merge Job NAME-merge, the
	// ConfigMap NAME-scenario, the claim NAME-results.
	Name string
	// Namespace of every object; "" leaves it to kubectl's context.
	Namespace string
	// Image is the sioload image (the Dockerfile's).
	Image string
	// Parallelism is N, the number of parts, pods and completions.
	Parallelism int
	// ScenarioFile is the scenario's file name: its ConfigMap key and
	// its name under ScenarioDir. Scenario is the file's bytes, carried as
	// they are.
	ScenarioFile string
	Scenario     []byte
	// Target is passed to the parts as --target; "" runs the scenario's.
	Target string
	// StartAt is the parts' --start-at (RFC3339). The shipped manifests
	// hold a placeholder instead: Render does not parse it.
	StartAt string
	// Wait bounds the merge's wait for the parts, from the merge pod's
	// start, and the parts' Job (activeDeadlineSeconds).
	Wait time.Duration
	// StorageClass of the claim; "" is the cluster's default class.
	StorageClass string
	// AccessMode of the claim: ReadWriteMany unless set.
	AccessMode string
}

// Doc is one manifest: the file the shipped copy lives in and its YAML.
type Doc struct {
	File string
	YAML []byte
}

// Render returns the manifests, in the order kubectl should create them.
func Render(o Options) ([]Doc, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	v := view{Options: o, Instance: o.Name, ConfigMap: o.Name + "-scenario", Claim: o.Name + "-results",
		MergeJob: o.Name + "-merge", ScenarioDir: ScenarioDir, ResultsDir: ResultsDir,
		RunDir: "run-" + strings.ReplaceAll(o.StartAt, ":", ""), WaitImage: WaitImage, UID: UID,
		WaitScript: waitScript, Storage: "1Gi",
		PartsDeadline: int64(o.Wait.Seconds()), MergeDeadline: int64((o.Wait + 5*time.Minute).Seconds())}
	if v.AccessMode == "" {
		v.AccessMode = "ReadWriteMany"
	}
	n := strconv.Itoa(o.Parallelism)
	part := ResultsDir + "/part-$(JOB_COMPLETION_INDEX).json"
	args := []string{"run", ScenarioDir + "/" + o.ScenarioFile}
	if o.Target != "" {
		args = append(args, "--target", o.Target)
	}
	v.PartArgs = cmdline{[]string{Binary}, append(args, "--segment", "$(JOB_COMPLETION_INDEX)/"+n, "--start-at", o.StartAt, "--out", part)}
	v.WaitArgs = cmdline{[]string{"sh", ScenarioDir + "/wait-parts.sh"}, []string{ResultsDir, n, strconv.FormatInt(v.PartsDeadline, 10)}}
	merge := []string{"report"}
	for i := range o.Parallelism {
		merge = append(merge, ResultsDir+"/part-"+strconv.Itoa(i)+".json")
	}
	merged := ResultsDir + "/merged.json"
	v.MergeArgs = cmdline{[]string{Binary}, append(merge, "--format", "json", "--out", merged)}
	v.SummaryArgs = cmdline{[]string{Binary}, []string{"report", merged}}
	v.HTMLArgs = cmdline{[]string{Binary}, []string{"report", merged, "--format", "html", "--out", ResultsDir + "/report.html"}}
	var docs []Doc
	for _, d := range []struct{ tmpl, file string }{
		{"configmap", "configmap.yaml"}, {"pvc", "pvc.yaml"}, {"parts", "job.yaml"}, {"merge", "merge-job.yaml"},
	} {
		var b bytes.Buffer
		if err := tmpl.ExecuteTemplate(&b, d.tmpl, v); err != nil {
			return nil, fmt.Errorf("rendering %s: %w", d.file, err)
		}
		b.WriteByte('\n')
		docs = append(docs, Doc{File: d.file, YAML: b.Bytes()})
	}
	return docs, nil
}

// Join is the manifests as one YAML stream, for kubectl apply -f -.
func Join(docs []Doc) []byte {
	var b bytes.Buffer
	for i, d := range docs {
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(d.YAML)
	}
	return b.Bytes()
}

// view is what the template sees.
type view struct {
	Options
	Instance, ConfigMap, Claim, MergeJob, ScenarioDir, ResultsDir, RunDir, WaitImage string
	WaitScript, Storage                                                              string
	UID                                                                              int
	PartsDeadline, MergeDeadline                                                     int64
	PartArgs, WaitArgs, MergeArgs, SummaryArgs, HTMLArgs                             cmdline
}

// cmdline is a container's command and args.
type cmdline struct{ Command, Args []string }

// metaView is what the "meta" template sees: one object's metadata.
type metaView struct{ Name, Namespace, Instance, Component string }

func meta(v view, name, component string) metaView {
	return metaView{Name: name, Namespace: v.Namespace, Instance: v.Instance, Component: component}
}

var (
	label   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	cmKey   = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
	nonName = regexp.MustCompile(`[^a-z0-9]+`)
)

// CheckName refuses a name the objects cannot take.
func CheckName(name string) error {
	if len(name) > maxName || !label.MatchString(name) {
		return fmt.Errorf("%q is not a name for the objects: want at most %d lowercase letters, digits and '-', starting and ending with a letter or digit", name, maxName)
	}
	return nil
}

// CheckNamespace refuses what is not a namespace name ("" is kubectl's).
func CheckNamespace(ns string) error {
	if ns != "" && (len(ns) > 63 || !label.MatchString(ns)) {
		return fmt.Errorf("%q is not a namespace: want at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit", ns)
	}
	return nil
}

// CheckImage refuses an empty image or one with spaces or control bytes.
func CheckImage(image string) error {
	if image == "" || strings.IndexFunc(image, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return fmt.Errorf("%q is not an image reference such as registry.example/sioload:1.0", image)
	}
	return nil
}

// DefaultName is "sioload-" and the scenario's name made a DNS label.
func DefaultName(scenario string) string {
	s := strings.Trim(nonName.ReplaceAllString(strings.ToLower(scenario), "-"), "-")
	name := "sioload"
	if s != "" {
		name += "-" + s
	}
	if len(name) > maxName {
		name = strings.TrimRight(name[:maxName], "-")
	}
	return name
}

func (o Options) check() error {
	for _, err := range []error{CheckName(o.Name), CheckNamespace(o.Namespace), CheckImage(o.Image)} {
		if err != nil {
			return err
		}
	}
	if o.Parallelism < 1 || o.Parallelism > MaxParallelism {
		return fmt.Errorf("parallelism %d: want 1 to %d parts", o.Parallelism, MaxParallelism)
	}
	if len(o.ScenarioFile) > 253 || !cmKey.MatchString(o.ScenarioFile) || o.ScenarioFile == "wait-parts.sh" || strings.Trim(o.ScenarioFile, ".") == "" {
		return fmt.Errorf("scenario file name %q cannot be a ConfigMap key: rename it to letters, digits, '-', '_' and '.'", o.ScenarioFile)
	}
	if o.StartAt == "" {
		return fmt.Errorf("no start time for the parts")
	}
	if o.Wait < time.Second {
		return fmt.Errorf("wait %v: want at least a second", o.Wait)
	}
	if o.AccessMode != "" && o.AccessMode != "ReadWriteMany" && o.AccessMode != "ReadWriteOnce" {
		return fmt.Errorf("access mode %q: want ReadWriteMany or ReadWriteOnce", o.AccessMode)
	}
	return nil
}

// quote is a YAML double-quoted scalar: a JSON string is one.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// literal is s as a YAML literal block scalar indented by indent spaces,
// readable in the ConfigMap, when that holds s exactly: one final
// newline, no leading space on the first line (it would set the
// indentation), no carriage return, tab-free leading indentation and
// only printable characters. Anything else is quoted, which holds any
// string.
func literal(s string, indent int) string {
	ok := strings.HasSuffix(s, "\n") && !strings.HasSuffix(s, "\n\n") && !strings.HasPrefix(s, " ") &&
		!strings.HasPrefix(s, "\n") && !strings.ContainsRune(s, '\r')
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if !ok {
			break
		}
		if strings.TrimLeft(line, " ") != strings.TrimLeft(line, " \t") && strings.TrimSpace(line) != "" {
			ok = false // a tab in the indentation
		}
		for _, r := range line {
			if (r < ' ' && r != '\t') || r == 0x7f || r == 0xfeff || r == '\u2028' || r == '\u2029' || r == 0x85 {
				ok = false
			}
		}
	}
	if !ok {
		return quote(s)
	}
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	b.WriteString("|")
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		b.WriteString("\n")
		if line != "" {
			b.WriteString(pad + line)
		}
	}
	return b.String()
}
