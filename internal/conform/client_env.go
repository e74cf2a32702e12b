package conform

import (
	"sort"
	"strconv"

	"github.com/siokit/siokit/internal/yamldoc"
)

// clientEnvKeys are the optional variables of the client contract
// (docs/conformance.md §6.1) a client case may set with env, each with
// the check of its value. The reconnection settings let the backoff cases
// choose short delays, so that several attempts fit in a second or two
// instead of the defaults' 1 s to 5 s each.
var clientEnvKeys = map[string]func(string) bool{
	"SIOCONFORM_AUTH":                   func(v string) bool { return v != "" },
	"SIOCONFORM_NAMESPACE":              func(v string) bool { return len(v) > 0 && v[0] == '/' },
	"SIOCONFORM_RECONNECTION_DELAY":     positiveInt,
	"SIOCONFORM_RECONNECTION_DELAY_MAX": positiveInt,
	"SIOCONFORM_RANDOMIZATION_FACTOR": func(v string) bool {
		f, err := strconv.ParseFloat(v, 64)
		return err == nil && f >= 0 && f < 1
	},
}

func positiveInt(v string) bool {
	n, err := strconv.Atoi(v)
	return err == nil && n > 0
}

// checkClientEnv checks a case's env and keeps it on c: only client cases
// carry one, and only with the contract's variables.
func checkClientEnv(d *yamldoc.Decoder, path, field string, c *Case, env map[string]string) {
	at := func(format string, args ...any) {
		d.ErrorAt(d.Lines[yamldoc.Join(path, "env")], yamldoc.Join(field, "env"), format, args...)
	}
	if c.Side != "client" {
		at("only client cases set the client program's environment")
		return
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	c.Env = map[string]string{}
	for _, k := range keys {
		ok, known := clientEnvKeys[k]
		switch {
		case !known:
			at("%s is no optional variable of the client contract (§6.1)", k)
		case !ok(env[k]):
			at("%s: invalid value %q", k, env[k])
		default:
			c.Env[k] = env[k]
		}
	}
}
