package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/k8s"
)

// k8sManifests are the objects of one "sioload k8s" output, decoded.
type k8sManifests struct {
	cm    *corev1.ConfigMap
	pvc   *corev1.PersistentVolumeClaim
	parts *batchv1.Job // the Indexed Job
	merge *batchv1.Job
}

// decodeK8s decodes a stream of manifests strictly into the k8s.io/api
// types, as the API server does (sigs.k8s.io/json: field names case
// sensitive): an unknown or repeated field, a wrong type, an unknown kind
// or apiVersion is an error.
func decodeK8s(data []byte) (*k8sManifests, error) {
	var m k8sManifests
	for i, doc := range strings.Split("\n"+string(data), "\n---\n") {
		doc += "\n" // the separator took the document's last newline
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return nil, fmt.Errorf("document %d: %v", i, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 ConfigMap":
			m.cm = new(corev1.ConfigMap)
			obj = m.cm
		case "v1 PersistentVolumeClaim":
			m.pvc = new(corev1.PersistentVolumeClaim)
			obj = m.pvc
		case "batch/v1 Job":
			j := new(batchv1.Job)
			obj = j
			defer func() {
				if j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion {
					m.parts = j
				} else {
					m.merge = j
				}
			}()
		default:
			return nil, fmt.Errorf("document %d: unexpected %q %q", i, tm.APIVersion, tm.Kind)
		}
		if err := strictDecode(doc, obj); err != nil {
			return nil, fmt.Errorf("document %d (%s): %v", i, tm.Kind, err)
		}
	}
	return &m, nil
}

// strictDecode decodes one YAML document into obj as the API server
// does: unknown and repeated fields refused, names case sensitive.
func strictDecode(doc string, obj any) error {
	js, err := yaml.YAMLToJSONStrict([]byte(doc))
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(js, obj)
	return errors.Join(append(strict, err)...)
}

// checkK8s asserts what makes the manifests a run in n parts: an Indexed
// Job of n pods run once each, whose command line is part
// $(JOB_COMPLETION_INDEX)/n of the ConfigMap's scenario writing to the
// claim, a merge of exactly the n parts' files, non-root pods, and
// references between the objects that resolve.
func checkK8s(t *testing.T, what string, m *k8sManifests, n int) {
	t.Helper()
	if m.cm == nil || m.pvc == nil || m.parts == nil || m.merge == nil {
		t.Fatalf("%s: want a ConfigMap, a claim, an Indexed Job and a merge Job; got %+v", what, m)
	}
	errf := func(format string, a ...any) { t.Helper(); t.Errorf(what+": "+format, a...) }
	for _, meta := range []metav1.ObjectMeta{m.cm.ObjectMeta, m.pvc.ObjectMeta, m.parts.ObjectMeta, m.merge.ObjectMeta} {
		if errs := validation.IsDNS1123Label(meta.Name); len(errs) > 0 {
			errf("name %q: %v", meta.Name, errs)
		}
		for k, v := range meta.Labels {
			if errs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(errs) > 0 {
				errf("%s: label %s=%s: %v", meta.Name, k, v, errs)
			}
		}
	}
	js := m.parts.Spec
	if js.Parallelism == nil || js.Completions == nil || int(*js.Parallelism) != n || int(*js.Completions) != n {
		errf("parallelism %v, completions %v; want %d each", js.Parallelism, js.Completions, n)
	}
	if js.BackoffLimitPerIndex == nil || *js.BackoffLimitPerIndex != 0 || js.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		errf("backoffLimitPerIndex %v, restartPolicy %q: want each part run once (0, Never)", js.BackoffLimitPerIndex, js.Template.Spec.RestartPolicy)
	}
	if ms := m.merge.Spec; ms.BackoffLimit == nil || *ms.BackoffLimit != 0 || ms.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		errf("merge: backoffLimit %v, restartPolicy %q: want one merge (0, Never)", ms.BackoffLimit, ms.Template.Spec.RestartPolicy)
	}
	if len(js.Template.Spec.Containers) != 1 {
		t.Fatalf("%s: parts: %d containers, want 1", what, len(js.Template.Spec.Containers))
	}
	part := js.Template.Spec.Containers[0]
	line := strings.Join(append(slices.Clone(part.Command), part.Args...), " ")
	if !strings.HasPrefix(line, k8s.Binary+" run "+k8s.ScenarioDir+"/") || !strings.Contains(line, fmt.Sprintf(" --segment $(JOB_COMPLETION_INDEX)/%d ", n)) ||
		!strings.Contains(line, " --start-at ") || !strings.Contains(line, " --out "+k8s.ResultsDir+"/part-$(JOB_COMPLETION_INDEX).json") {
		errf("parts' command line %q: want %s run %s/SCENARIO --segment $(JOB_COMPLETION_INDEX)/%d --start-at T --out %s/part-$(JOB_COMPLETION_INDEX).json", line, k8s.Binary, k8s.ScenarioDir, n, k8s.ResultsDir)
	}
	scen := strings.TrimPrefix(part.Args[1], k8s.ScenarioDir+"/")
	if _, ok := m.cm.Data[scen]; !ok || m.cm.Data["wait-parts.sh"] != k8s.WaitScript() {
		errf("ConfigMap keys %v: want the scenario %q and wait-parts.sh", slices.Sorted(maps.Keys(m.cm.Data)), scen)
	}
	if !slices.Contains(m.pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		errf("claim access modes %v: want ReadWriteMany (parts on several nodes)", m.pvc.Spec.AccessModes)
	}
	ps := m.merge.Spec.Template.Spec
	var names []string
	for _, c := range append(slices.Clone(ps.InitContainers), ps.Containers...) {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"wait-parts", "merge", "summary", "html"}) {
		t.Fatalf("%s: merge containers %v: want wait-parts, merge (init) then summary, html", what, names)
	}
	wantMerge := []string{"report"}
	for i := range n {
		wantMerge = append(wantMerge, fmt.Sprintf("%s/part-%d.json", k8s.ResultsDir, i))
	}
	wantMerge = append(wantMerge, "--format", "json", "--out", k8s.ResultsDir+"/merged.json")
	if got := ps.InitContainers[1].Args; !slices.Equal(got, wantMerge) {
		errf("merge args %q, want %q", got, wantMerge)
	}
	if got := ps.InitContainers[0].Args; len(got) != 3 || got[0] != k8s.ResultsDir || got[1] != fmt.Sprint(n) {
		errf("wait-parts args %q: want %s %d TIMEOUT", got, k8s.ResultsDir, n)
	}
	if !slices.Contains(ps.Containers[1].Args, "html") {
		errf("html container %q: want --format html", ps.Containers[1].Args)
	}
	for _, p := range []struct {
		name string
		spec corev1.PodSpec
	}{{"parts", js.Template.Spec}, {"merge", ps}} {
		sc := p.spec.SecurityContext
		if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
			errf("%s: pod securityContext %+v: want runAsNonRoot and a non-zero runAsUser", p.name, sc)
		}
		vols := map[string]corev1.Volume{}
		for _, v := range p.spec.Volumes {
			vols[v.Name] = v
		}
		if v := vols["scenario"]; v.ConfigMap == nil || v.ConfigMap.Name != m.cm.Name {
			errf("%s: volume scenario %+v: want the ConfigMap %s", p.name, v.VolumeSource, m.cm.Name)
		}
		if v := vols["results"]; v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != m.pvc.Name {
			errf("%s: volume results %+v: want the claim %s", p.name, v.VolumeSource, m.pvc.Name)
		}
		for _, c := range append(slices.Clone(p.spec.InitContainers), p.spec.Containers...) {
			if c.SecurityContext == nil || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
				errf("%s/%s: want allowPrivilegeEscalation false", p.name, c.Name)
			}
			for _, vm := range c.VolumeMounts {
				if _, ok := vols[vm.Name]; !ok {
					errf("%s/%s: mount of volume %q, which the pod does not have", p.name, c.Name, vm.Name)
				}
			}
		}
	}
}

// TestK8sManifestsDecodeStrictly decodes the shipped manifests and what
// sioload k8s prints for a shipped scenario strictly into the k8s.io/api
// types, and checks them; the strict decoder does refuse a misspelt field.
func TestK8sManifestsDecodeStrictly(t *testing.T) {
	var shipped []byte
	for i, f := range []string{"configmap.yaml", "pvc.yaml", "job.yaml", "merge-job.yaml"} {
		b, err := os.ReadFile(filepath.Join("../../deploy/kubernetes", f))
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			shipped = append(shipped, "---\n"...)
		}
		shipped = append(shipped, b...)
	}
	files, _ := filepath.Glob("../../deploy/kubernetes/*.yaml")
	if len(files) != 5 {
		t.Errorf("deploy/kubernetes has %v: a manifest this test does not decode?", files)
	}
	m, err := decodeK8s(shipped)
	if err != nil {
		t.Fatalf("deploy/kubernetes: %v", err)
	}
	checkK8s(t, "deploy/kubernetes", m, 3)
	checkK8sTarget(t, m)

	for _, n := range []int{1, 3, 7} {
		stdout, stderr, code := exec("k8s", "../../scenarios/chat.yaml", "--parallelism", fmt.Sprint(n), "--target", "http://chat.loadtest:3000", "--namespace", "loadtest")
		if code != 0 {
			t.Fatalf("sioload k8s: exit %d: %s", code, stderr)
		}
		m, err := decodeK8s([]byte(stdout))
		if err != nil {
			t.Fatalf("sioload k8s --parallelism %d: %v\n%s", n, err, stdout)
		}
		checkK8s(t, fmt.Sprintf("sioload k8s chat.yaml --parallelism %d", n), m, n)
		if m.parts.Namespace != "loadtest" || m.parts.Name != "sioload-chat" || m.merge.Name != "sioload-chat-merge" {
			t.Errorf("parts %s/%s, merge %s: want loadtest/sioload-chat and sioload-chat-merge", m.parts.Namespace, m.parts.Name, m.merge.Name)
		}
		scen, _ := os.ReadFile("../../scenarios/chat.yaml")
		if m.cm.Data["chat.yaml"] != string(scen) {
			t.Errorf("the ConfigMap does not hold chat.yaml as it is")
		}
	}

	for _, typo := range []string{"completionmode: Indexed", "completionMod: Indexed", "completionMode: 3"} {
		bad := bytes.Replace(shipped, []byte("completionMode: Indexed"), []byte(typo), 1)
		if _, err := decodeK8s(bad); err == nil || !strings.Contains(err.Error(), strings.Split(typo, ":")[0]) {
			t.Errorf("%q: error %v, want it refused by name", typo, err)
		}
	}
}

// checkK8sTarget decodes deploy/kubernetes/target.yaml, the example's
// target: a Deployment of sioload serve and the Service the shipped parts
// load, which must select the Deployment's pods on the port they listen.
func checkK8sTarget(t *testing.T, m *k8sManifests) {
	t.Helper()
	b, err := os.ReadFile("../../deploy/kubernetes/target.yaml")
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split("\n"+string(b), "\n---\n")
	var d appsv1.Deployment
	var svc corev1.Service
	if len(docs) != 2 {
		t.Fatalf("target.yaml: %d documents, want a Deployment and a Service", len(docs))
	}
	if err := strictDecode(docs[0], &d); err != nil || d.Kind != "Deployment" || d.APIVersion != "apps/v1" {
		t.Fatalf("target.yaml Deployment: %v (%s %s)", err, d.APIVersion, d.Kind)
	}
	if err := strictDecode(docs[1], &svc); err != nil || svc.Kind != "Service" || svc.APIVersion != "v1" {
		t.Fatalf("target.yaml Service: %v (%s %s)", err, svc.APIVersion, svc.Kind)
	}
	pod := d.Spec.Template
	for k, v := range d.Spec.Selector.MatchLabels {
		if pod.Labels[k] != v {
			t.Errorf("the Deployment's selector %s=%s does not select its pods %v", k, v, pod.Labels)
		}
	}
	for k, v := range svc.Spec.Selector {
		if pod.Labels[k] != v {
			t.Errorf("the Service's selector %s=%s does not select the target's pods %v", k, v, pod.Labels)
		}
	}
	selects := func(labels map[string]string) bool {
		for k, v := range svc.Spec.Selector {
			if labels[k] != v {
				return false
			}
		}
		return true
	}
	if selects(m.parts.Spec.Template.Labels) || selects(m.merge.Spec.Template.Labels) {
		t.Errorf("the Service's selector %v selects the parts' or the merge's pods too", svc.Spec.Selector)
	}
	c := pod.Spec.Containers[0]
	if sc := pod.Spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("target pod securityContext %+v: want runAsNonRoot", sc)
	}
	if c.Command[0] != k8s.Binary || !slices.Equal(c.Args, []string{"serve", "--addr", "0.0.0.0:3000"}) {
		t.Errorf("target command %q %q: want %s serve --addr 0.0.0.0:3000", c.Command, c.Args, k8s.Binary)
	}
	args := m.parts.Spec.Template.Spec.Containers[0].Args
	want := fmt.Sprintf("http://%s:%d", svc.Name, svc.Spec.Ports[0].Port)
	if i := slices.Index(args, "--target"); i < 0 || args[i+1] != want {
		t.Errorf("the parts load %q, want the Service %s", args, want)
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 3000 || svc.Spec.Ports[0].TargetPort.StrVal != c.Ports[0].Name {
		t.Errorf("Service targetPort %v, container ports %+v: want the serve port by name", svc.Spec.Ports[0].TargetPort, c.Ports)
	}
}

// TestK8sRefuses: a bad scenario names file:line, what the segment rules
// refuse is refused, and so is what a pod could not run; all exit 2.
func TestK8sRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	bad := write("bad.yaml", "name: x\nload: {clients: 1, hold: nope}\nflow: [{connect: {}}]\n")
	scen := write("s.yaml", segmentScenario)
	restart := write("r.yaml", strings.Replace(segmentScenario, "flow:", "faults:\n  - {at: 1s, restart_target: true, down: 1s}\nflow:", 1))
	secret := write("secret.yaml", strings.Replace(segmentScenario, "flow:", "headers: {Authorization: \"Bearer abcdef123456\"}\nflow:", 1))
	ca := write("ca.yaml", strings.Replace(segmentScenario, "flow:", "tls: {ca_file: ca.pem}\nflow:", 1))
	write("ca.pem", selfSignedPEM(t))
	tgt := "http://target.loadtest:3000"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{bad, "--parallelism", "2", "--target", tgt}, "bad.yaml:2: load.hold: bad duration"},
		{[]string{scen}, "--parallelism: required"},
		{[]string{scen, "--parallelism", "0"}, "--parallelism: want 1 to"},
		{[]string{scen, "--parallelism", "10", "--target", tgt}, "load.clients is 9, fewer than the 10 parts"},
		{[]string{restart, "--parallelism", "2"}, "restart_target cannot run in segments"},
		{[]string{scen, "--parallelism", "2"}, "--target: the parts need one target they share"},
		{[]string{scen, "--parallelism", "2", "--target", "127.0.0.1:3000"}, "--target: "},
		{[]string{secret, "--parallelism", "2", "--target", tgt}, "carries secrets"},
		{[]string{scen, "--parallelism", "2", "--target", "http://u:pw@target:3000"}, "carries secrets"},
		{[]string{ca, "--parallelism", "2", "--target", tgt}, "tls.ca_file: the pods would not have"},
		{[]string{scen, "--parallelism", "2", "--target", tgt, "--name", "Bad_Name"}, `--name: "Bad_Name" is not a name`},
		{[]string{scen, "--parallelism", "2", "--target", tgt, "--namespace", "a.b"}, `--namespace: "a.b" is not a namespace`},
		{[]string{scen, "--parallelism", "2", "--target", tgt, "--start-delay", "0s"}, "--start-delay: want a positive duration"},
		{[]string{scen, "--parallelism", "2", "--target", tgt, "--access-mode", "ReadOnlyMany"}, "--access-mode: want ReadWriteMany or ReadWriteOnce"},
		{[]string{scen, scen, "--parallelism", "2"}, "one scenario file, got 2"},
	} {
		stdout, stderr, code := exec(append([]string{"k8s"}, c.args...)...)
		if code != cli.ExitUsage || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("k8s %v: exit %d, stderr %q, %d bytes on stdout; want 2, %q and no manifest", c.args, code, stderr, len(stdout), c.want)
		}
		if strings.Contains(stderr, "abcdef123456") || strings.Contains(stderr, "u:pw") {
			t.Errorf("k8s %v: a secret in the error: %s", c.args, stderr)
		}
	}
}

// selfSignedPEM is a CA certificate, for a scenario's tls.ca_file.
func selfSignedPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// expandK8s expands $(VAR) in s from env as the kubelet does a container's
// command and args: $$ is a literal $, a $(VAR) of no defined VAR and an
// unclosed $( stay as they are.
func expandK8s(s string, env map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			j := strings.IndexByte(s[i+2:], ')')
			if j < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			ref := s[i : i+3+j]
			if v, ok := env[s[i+2:i+2+j]]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(ref)
			}
			i += 2 + j
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

func TestExpandK8s(t *testing.T) {
	env := map[string]string{"JOB_COMPLETION_INDEX": "2", "N": "3"}
	for in, want := range map[string]string{
		"--segment=$(JOB_COMPLETION_INDEX)/$(N)": "--segment=2/3",
		"$$(N) $(NOPE) $x $":                     "$(N) $(NOPE) $x $",
		"$((i + 1)) $(unclosed":                  "$((i + 1)) $(unclosed",
	} {
		if got := expandK8s(in, env); got != want {
			t.Errorf("expandK8s(%q) = %q, want %q", in, got, want)
		}
	}
}

// pod is a container of a manifest run as a local process: its command
// line expanded from its environment as the kubelet would, the image's
// sioload replaced by the built binary, and each volume mount's path by
// a local folder holding what the volume would.
type pod struct {
	bin    string
	mounts map[string]string // mountPath -> local folder
}

func (p pod) command(t *testing.T, c corev1.Container, env map[string]string) *osexec.Cmd {
	t.Helper()
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			t.Fatalf("%s: env %s from %+v: the test sets only what the Job controller sets", c.Name, e.Name, e.ValueFrom)
		}
		env[e.Name] = expandK8s(e.Value, env)
	}
	var line []string
	for _, a := range append(slices.Clone(c.Command), c.Args...) {
		a = expandK8s(a, env)
		for mp, dir := range p.mounts {
			if a == mp || strings.HasPrefix(a, mp+"/") {
				a = dir + strings.TrimPrefix(a, mp)
			}
		}
		line = append(line, a)
	}
	if line[0] == k8s.Binary {
		line[0] = p.bin
	}
	cmd := osexec.Command(line[0], line[1:]...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = new(strings.Builder), new(strings.Builder)
	return cmd
}

// TestK8sPodsAsLocalProcesses runs what sioload k8s prints, as local
// processes: the Indexed Job's n pods (JOB_COMPLETION_INDEX 0..n-1, as
// the Job controller sets it) and, started with them as kubectl apply
// would, the merge pod (its init containers in turn, then its
// containers), the ConfigMap's files and the claim as local folders,
// against the built-in target on loopback. The merge equals one process's
// run of the same scenario and the server's counts exactly.
func TestK8sPodsAsLocalProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs six processes")
	}
	dir := t.TempDir()
	bin := buildSioload(t)
	scen, b := scenarioAndTarget(t, dir, "seg.yaml", segmentScenario)

	const n = 3
	stdout, stderr, code := exec("k8s", scen, "--parallelism", fmt.Sprint(n), "--target", b.URL, "--start-delay", "5s", "--name", "seg")
	if code != 0 {
		t.Fatalf("sioload k8s: exit %d: %s", code, stderr)
	}
	m, err := decodeK8s([]byte(stdout))
	if err != nil {
		t.Fatal(err)
	}
	checkK8s(t, "sioload k8s", m, n)

	// The volumes: the ConfigMap's keys as files (as the kubelet writes
	// them), the claim's folder for this run (the mount's subPath).
	scenDir, claim := filepath.Join(dir, "configmap"), filepath.Join(dir, "claim")
	os.MkdirAll(scenDir, 0o755)
	for k, v := range m.cm.Data {
		os.WriteFile(filepath.Join(scenDir, k), []byte(v), 0o644)
	}
	mounts := func(c corev1.Container) pod {
		p := pod{bin: bin, mounts: map[string]string{}}
		for _, vm := range c.VolumeMounts {
			switch vm.Name {
			case "scenario":
				p.mounts[vm.MountPath] = scenDir
			case "results":
				if vm.SubPath == "" {
					t.Fatalf("%s: the results mount has no subPath: runs would share a folder", c.Name)
				}
				d := filepath.Join(claim, vm.SubPath)
				os.MkdirAll(d, 0o755)
				p.mounts[vm.MountPath] = d
			}
		}
		return p
	}

	before := b.Stats()
	ms := m.merge.Spec.Template.Spec
	wait := mounts(ms.InitContainers[0]).command(t, ms.InitContainers[0], map[string]string{})
	if err := wait.Start(); err != nil {
		t.Fatal(err)
	}
	var parts []*osexec.Cmd
	for i := range n {
		c := m.parts.Spec.Template.Spec.Containers[0]
		cmd := mounts(c).command(t, c, map[string]string{"JOB_COMPLETION_INDEX": fmt.Sprint(i)})
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, cmd)
	}
	for i, c := range parts {
		if err := waitBounded(c, 60*time.Second); err != nil {
			t.Fatalf("pod %d: %v\n%s\nstdout %s\nstderr %s", i, err, c.Args, c.Stdout, c.Stderr)
		}
	}
	if err := waitBounded(wait, 30*time.Second); err != nil {
		t.Fatalf("wait-parts: %v\nstdout %s\nstderr %s", err, wait.Stdout, wait.Stderr)
	}
	partsServer := idleStats(t, b)
	for _, c := range ms.InitContainers[1:] {
		cmd := mounts(c).command(t, c, map[string]string{})
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if err := waitBounded(cmd, 60*time.Second); err != nil {
			t.Fatalf("merge pod, %s: %v\n%s\nstdout %s\nstderr %s", c.Name, err, cmd.Args, cmd.Stdout, cmd.Stderr)
		}
	}
	var summary string
	for _, c := range ms.Containers {
		cmd := mounts(c).command(t, c, map[string]string{})
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if err := waitBounded(cmd, 60*time.Second); err != nil {
			t.Fatalf("merge pod, %s: %v\n%s\nstdout %s\nstderr %s", c.Name, err, cmd.Args, cmd.Stdout, cmd.Stderr)
		}
		if c.Name == "summary" {
			summary = fmt.Sprint(cmd.Stdout)
		}
	}
	runDir := filepath.Join(claim, m.parts.Spec.Template.Spec.Containers[0].VolumeMounts[1].SubPath)
	merged := result(t, filepath.Join(runDir, "merged.json"))
	html, err := os.ReadFile(filepath.Join(runDir, "report.html"))
	if err != nil || !bytes.Contains(html, []byte("<html")) {
		t.Errorf("report.html: %v, %d bytes; want the HTML report", err, len(html))
	}
	if !strings.Contains(summary, "│ ack ") {
		t.Errorf("the summary container's output has no ack row:\n%s", summary)
	}

	// The same scenario, one process, against the same target.
	whole := filepath.Join(dir, "whole.json")
	c := osexec.Command(bin, "run", scen, "--quiet", "--target", b.URL, "--out", whole)
	c.Stdout, c.Stderr = new(strings.Builder), new(strings.Builder)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := waitBounded(c, 60*time.Second); err != nil {
		t.Fatalf("one process: %v\nstdout %s\nstderr %s", err, c.Stdout, c.Stderr)
	}
	after := idleStats(t, b)
	one := result(t, whole)
	t.Logf("merged counters %v; server for the pods %+v", merged.Counters, sub(partsServer, before))

	if merged.Segment != nil || merged.Runs != n || merged.Partial || len(merged.Errors) != 0 {
		t.Errorf("merged: segment %+v, runs %d, partial %v, errors %v; want no segment, %d runs, whole, no error", merged.Segment, merged.Runs, merged.Partial, merged.Errors, n)
	}
	if one.Counters["acks"] != 9*20 {
		t.Errorf("one process: %d acks, want 180 (9 clients × 20)", one.Counters["acks"])
	}
	if !maps.Equal(merged.Counters, one.Counters) || merged.ClientsConnected != one.ClientsConnected || !maps.Equal(merged.Events, one.Events) {
		t.Errorf("merged and one process differ:\nmerged      %v connected %d events %v\none process %v connected %d events %v",
			merged.Counters, merged.ClientsConnected, merged.Events, one.Counters, one.ClientsConnected, one.Events)
	}
	for _, name := range []string{"handshake", "ack", "event"} {
		if a, b := merged.Latency(name), one.Latency(name); a == nil || b == nil || a.TotalCount() != b.TotalCount() {
			t.Errorf("%s samples differ: merged %v, one process %v", name, a, b)
		}
	}
	for _, c := range []struct {
		name string
		st   serverDelta
		got  int64
		sent int64
		read int64
	}{
		{"pods", sub(partsServer, before), merged.Latency("handshake").TotalCount(), merged.Counters["messages_sent"], merged.Counters["packets_received"]},
		{"one process", sub(after, partsServer), one.Latency("handshake").TotalCount(), one.Counters["messages_sent"], one.Counters["packets_received"]},
	} {
		if c.st.sessions != 9 || c.st.sessions != c.got || c.st.events != c.sent || c.st.out != c.read {
			t.Errorf("%s: server %d sessions, %d events in, %d packets out; sioload %d handshakes, %d sent, %d received",
				c.name, c.st.sessions, c.st.events, c.st.out, c.got, c.sent, c.read)
		}
	}
}

// TestK8sHelp: -h prints the usage once, exit 0, no manifest.
func TestK8sHelp(t *testing.T) {
	for _, args := range [][]string{{"k8s", "-h"}, {"help", "k8s"}} {
		stdout, stderr, code := exec(args...)
		if code != 0 || stdout != "" || strings.Count(stderr, "Usage: sioload k8s") != 1 || !strings.Contains(stderr, "-parallelism") {
			t.Errorf("%q: exit %d, stdout %q, stderr:\n%s", args, code, stdout, stderr)
		}
	}
	if _, stderr, _ := exec("--help"); !strings.Contains(stderr, "k8s SCENARIO.yaml") {
		t.Errorf("sioload --help does not list k8s:\n%s", stderr)
	}
}
