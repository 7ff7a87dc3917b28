package admission

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// optionKind is how Odoo 18 reads one odoo.conf option.
type optionKind int

const (
	// optionBool: Odoo's config loader turns True/true/False/false into a
	// boolean and keeps anything else as a string, which Python then treats
	// as true ("maybe", "0" and "no" all switch the option on).
	optionBool optionKind = iota
	// optionInt: read with int() (optparse's int checker or a later cast); a
	// non-number makes Odoo exit at start or fail on first use.
	optionInt
	// optionFloat: read with float().
	optionFloat
	// optionChoice: one of a fixed list (optparse "choice").
	optionChoice
)

// odooOption is the type and bounds of one known option.
type odooOption struct {
	kind optionKind
	// min is the smallest number Odoo makes sense of (optionInt, optionFloat).
	min float64
	// falseAllowed: the option's default is False, which also means "unset".
	falseAllowed bool
	choices      []string
	// hint is appended to the error: what the number means.
	hint string
}

// odooOptions are the options of Odoo 18.0's odoo/tools/config.py whose
// values have a type; free-text options (paths, addresses, filters) are not
// listed and pass unchecked. Options the operator owns (db_host, http_port,
// ...) are refused by the CRD before this table is consulted.
var odooOptions = map[string]odooOption{
	// Booleans (store_true / store_false options).
	"proxy_mode":                      {kind: optionBool},
	"x_sendfile":                      {kind: optionBool},
	"http_enable":                     {kind: optionBool},
	"smtp_ssl":                        {kind: optionBool},
	"list_db":                         {kind: optionBool},
	"unaccent":                        {kind: optionBool},
	"syslog":                          {kind: optionBool},
	"stop_after_init":                 {kind: optionBool},
	"overwrite_existing_translations": {kind: optionBool},

	// Integers (type="int").
	"workers":                  {kind: optionInt, hint: "HTTP worker processes; 0 = threaded mode"},
	"max_cron_threads":         {kind: optionInt, hint: "cron threads; 0 = none"},
	"limit_time_cpu":           {kind: optionInt, hint: "seconds"},
	"limit_time_real":          {kind: optionInt, hint: "seconds"},
	"limit_time_real_cron":     {kind: optionInt, min: -1, hint: "seconds; -1 = limit_time_real, 0 = no limit"},
	"limit_request":            {kind: optionInt, hint: "requests per worker"},
	"limit_memory_soft":        {kind: optionInt, hint: "bytes"},
	"limit_memory_hard":        {kind: optionInt, hint: "bytes"},
	"limit_memory_soft_gevent": {kind: optionInt, falseAllowed: true, hint: "bytes"},
	"limit_memory_hard_gevent": {kind: optionInt, falseAllowed: true, hint: "bytes"},
	"osv_memory_count_limit":   {kind: optionInt, hint: "records; 0 = no limit"},
	"db_maxconn":               {kind: optionInt, min: 1, hint: "connections"},
	"db_maxconn_gevent":        {kind: optionInt, min: 1, falseAllowed: true, hint: "connections"},
	"smtp_port":                {kind: optionInt, min: 1, hint: "TCP port"},
	"db_replica_port":          {kind: optionInt, min: 1, falseAllowed: true, hint: "TCP port"},
	"transient_age_limit":      {kind: optionFloat, hint: "hours"},
	"log_level":                {kind: optionChoice, choices: []string{"info", "debug_rpc", "warn", "test", "critical", "runbot", "debug_sql", "error", "debug", "debug_rpc_answer", "notset"}},
	"db_sslmode":               {kind: optionChoice, choices: []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}},
	"log_db_level":             {kind: optionChoice, choices: []string{"debug", "info", "warning", "error", "critical"}},
}

var wholeNumber = regexp.MustCompile(`^-?[0-9]{1,18}$`)

// validateConfigOptions refuses configOptions values Odoo would reject or
// misread, naming the key. Only the keys that differ from old (nil on
// create) are checked, so a value admitted before this check does not
// block unrelated edits.
func validateConfigOptions(old, inst *odoov1alpha2.OdooInstance) field.ErrorList {
	keys := make([]string, 0, len(inst.Spec.ConfigOptions))
	for k, v := range inst.Spec.ConfigOptions {
		if old != nil {
			if before, ok := old.Spec.ConfigOptions[k]; ok && before == v {
				continue
			}
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs field.ErrorList
	for _, k := range keys {
		opt, known := odooOptions[k]
		if !known {
			continue
		}
		v := string(inst.Spec.ConfigOptions[k])
		if msg := opt.check(v); msg != "" {
			errs = append(errs, field.Invalid(field.NewPath("spec", "configOptions").Key(k), v, msg))
		}
	}
	return errs
}

// check returns why v is not a value of the option, or "".
func (o odooOption) check(v string) string {
	if o.falseAllowed && (v == "False" || v == "false") {
		return ""
	}
	switch o.kind {
	case optionBool:
		if v == "True" || v == "true" || v == "False" || v == "false" {
			return ""
		}
		return `must be True or False (Odoo reads any other text as true)`
	case optionInt:
		n, err := strconv.ParseInt(v, 10, 64)
		if !wholeNumber.MatchString(v) || err != nil {
			return fmt.Sprintf("must be a whole number (%s), e.g. %q%s", o.hint, example(o), orFalse(o))
		}
		if float64(n) < o.min {
			return fmt.Sprintf("must be at least %g (%s)", o.min, o.hint)
		}
	case optionFloat:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f != f { // NaN
			return fmt.Sprintf("must be a number (%s), e.g. \"1.0\"", o.hint)
		}
		if f < o.min {
			return fmt.Sprintf("must be at least %g (%s)", o.min, o.hint)
		}
	case optionChoice:
		for _, c := range o.choices {
			if v == c {
				return ""
			}
		}
		return fmt.Sprintf("must be one of %q", o.choices)
	}
	return ""
}

func example(o odooOption) string {
	if o.min > 1 {
		return strconv.Itoa(int(o.min))
	}
	return "2"
}

func orFalse(o odooOption) string {
	if o.falseAllowed {
		return ", or False for Odoo's default"
	}
	return ""
}
