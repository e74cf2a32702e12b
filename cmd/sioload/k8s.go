package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/k8s"
	"github.com/siokit/siokit/internal/load"
)

const k8sUsage = `Usage: sioload k8s SCENARIO.yaml --parallelism N [options]

Prints the Kubernetes manifests that run the scenario as N parts
("sioload run --segment I/N"), one pod each, in an Indexed Job, all
starting at the same time (--start-delay after now), and merge the
parts' results into one run's JSON, summary and HTML report on a
ReadWriteMany volume. Apply them at once, before the start time:

  sioload k8s scenarios/echo.yaml --parallelism 3 --target http://my-server:3000 | kubectl apply -f -
  kubectl wait --for=condition=complete --timeout=15m job/sioload-echo-merge
  kubectl logs job/sioload-echo-merge -c summary

The scenario is checked first (exit 2 naming file:line), and so is what
a part cannot do (restart_target and exec faults, fewer clients than
parts). The parts need one target they share, reachable from the pods.
The scenario is embedded in a ConfigMap: a scenario holding secrets
(auth, secret headers or query values, URL userinfo) is refused.

Options:
`

func k8sCmd(st *cli.State, args []string) error {
	fs := flag.NewFlagSet("sioload k8s", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), k8sUsage); fs.PrintDefaults() }
	parallelism := fs.Int("parallelism", 0, "number of parts: pods, completions and segments (required)")
	image := fs.String("image", "siokit/sioload:latest", "the sioload image (built from the Dockerfile)")
	startDelay := fs.Duration("start-delay", 30*time.Second, "the parts start this long after now: time to apply, schedule and pull")
	namespace := fs.String("namespace", "", "namespace of the objects (default: kubectl's)")
	name := fs.String("name", "", `base name of the objects (default "sioload-" and the scenario's name)`)
	targetURL := fs.String("target", "", "server URL the pods load (default: the scenario's target)")
	storageClass := fs.String("storage-class", "", "storage class of the results claim, one offering ReadWriteMany (default: the cluster's)")
	accessMode := fs.String("access-mode", "ReadWriteMany", "access mode of the results claim; ReadWriteOnce for a one-node cluster")
	pos, err := parse(fs, st.Stderr, args)
	if err != nil {
		return err
	}
	if _, err := oneScenario(fs, pos); err != nil {
		return err
	}
	if !isSet(fs, "parallelism") {
		return flagErr("parallelism", "required: the number of parts (pods)")
	}
	if *parallelism < 1 || *parallelism > k8s.MaxParallelism {
		return flagErr("parallelism", "want 1 to %d, got %d", k8s.MaxParallelism, *parallelism)
	}
	if *startDelay <= 0 || *startDelay > load.MaxStartWait {
		return flagErr("start-delay", "want a positive duration up to %s, got %s", load.MaxStartWait, *startDelay)
	}
	for _, c := range []struct {
		flag string
		err  error
	}{{"namespace", k8s.CheckNamespace(*namespace)}, {"image", k8s.CheckImage(*image)}} {
		if c.err != nil {
			return flagErr(c.flag, "%v", c.err)
		}
	}
	if isSet(fs, "name") {
		if err := k8s.CheckName(*name); err != nil {
			return flagErr("name", "%v", err)
		}
	}
	if *accessMode != "ReadWriteMany" && *accessMode != "ReadWriteOnce" {
		return flagErr("access-mode", "want ReadWriteMany or ReadWriteOnce, got %q", *accessMode)
	}
	o := overrides{target: *targetURL}
	if err := o.check(fs); err != nil {
		return err
	}
	s, err := o.scenario(pos[0])
	if err != nil {
		return err
	}
	m := scenarioMasker(s)
	// The segment rules of sioload run, which each pod would apply too.
	if err := load.CheckSegment(s, load.Segment{Index: 0, Count: *parallelism}); err != nil {
		return maskErr(m, cli.WithExitCode(err, cli.ExitUsage))
	}
	if s.Target == "" && len(s.Targets) == 0 {
		return flagErr("target", "the parts need one target they share, reachable from the pods: give --target (e.g. http://my-server.my-namespace:3000) or set the scenario's target")
	}
	if s.TLS.CAFile != "" {
		return usageErr("%s: tls.ca_file: the pods would not have %s (only the scenario goes into the ConfigMap): trust the CA in the image, or use tls.insecure for a test server", pos[0], s.TLS.CAFile)
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return cli.WithExitCode(err, cli.ExitUsage)
	}
	if *name == "" {
		*name = k8s.DefaultName(s.Name)
	}
	// A whole second, rounded up: the parts get at least the delay.
	at := time.Now().Add(*startDelay + time.Second - 1).Truncate(time.Second).UTC()
	// The parts end by start + load phase + grace (+1 s of closing); two
	// minutes more for slow nodes before the merge gives up on a part.
	wait := time.Until(at) + s.Load.Phase() + s.Load.Grace + 2*time.Minute
	docs, err := k8s.Render(k8s.Options{Name: *name, Namespace: *namespace, Image: *image, Parallelism: *parallelism,
		ScenarioFile: filepath.Base(pos[0]), Scenario: data, Target: *targetURL, StartAt: at.Format(time.RFC3339),
		Wait: wait.Round(time.Second), StorageClass: *storageClass, AccessMode: *accessMode})
	if err != nil {
		return cli.WithExitCode(err, cli.ExitUsage)
	}
	out := k8s.Join(docs)
	if !bytes.Equal(m.Bytes(out), out) {
		// Printed, they would be masked (and the manifests wrong); applied,
		// they would sit in a ConfigMap anyone reading the namespace reads.
		return usageErr("%s carries secrets (auth, secret headers or query values, or URL userinfo): a ConfigMap is no place for them; take them out of the scenario for a run on Kubernetes", pos[0])
	}
	if loopback(s.Target) {
		fmt.Fprintf(st.Stderr, "sioload: warning: target %s is a loopback address: from a pod, that is the pod itself\n", s.Target)
	}
	if len(s.SourceAddrs) > 0 {
		fmt.Fprintf(st.Stderr, "sioload: warning: the scenario's source_addrs are bound in every pod, which has addresses of its own\n")
	}
	fmt.Fprintf(st.Stderr, "sioload: %d parts start at %s (in %s): apply now (| kubectl apply -f -); then kubectl wait --for=condition=complete --timeout=%s job/%s-merge; kubectl logs job/%[5]s-merge -c summary\n",
		*parallelism, at.Format(time.RFC3339), time.Until(at).Round(time.Second), (wait + 5*time.Minute).Round(time.Minute), *name)
	_, err = st.Stdout.Write(out)
	return err
}

// loopback reports whether a target URL's host is a loopback address.
func loopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}
