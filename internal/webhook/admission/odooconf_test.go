package admission

import (
	"testing"

	. "github.com/onsi/gomega"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func TestValidateConfigOptions(t *testing.T) {
	tests := []struct {
		key, value string
		wantErr    string // "" = admitted
	}{
		{key: "limit_time_real", value: "600"},
		{key: "limit_time_real", value: "abc", wantErr: `spec.configOptions[limit_time_real]: Invalid value: "abc": must be a whole number (seconds)`},
		{key: "limit_time_real", value: "60s", wantErr: "must be a whole number"},
		{key: "limit_time_real", value: "-1", wantErr: "must be at least 0"},
		{key: "limit_time_real_cron", value: "-1"},
		{key: "limit_time_real_cron", value: "-2", wantErr: "must be at least -1"},
		{key: "max_cron_threads", value: "-2", wantErr: `spec.configOptions[max_cron_threads]: Invalid value: "-2": must be at least 0`},
		{key: "max_cron_threads", value: "99999999999999999999", wantErr: "must be a whole number"},
		{key: "proxy_mode", value: "True"},
		{key: "proxy_mode", value: "false"},
		{key: "proxy_mode", value: "maybe", wantErr: `spec.configOptions[proxy_mode]: Invalid value: "maybe": must be True or False`},
		{key: "proxy_mode", value: "1", wantErr: "must be True or False"},
		{key: "db_maxconn", value: "0", wantErr: "must be at least 1"},
		{key: "db_maxconn_gevent", value: "False"},
		{key: "db_maxconn", value: "False", wantErr: "must be a whole number"},
		{key: "transient_age_limit", value: "1.5"},
		{key: "transient_age_limit", value: "NaN", wantErr: "must be a number"},
		{key: "transient_age_limit", value: "soon", wantErr: "must be a number"},
		{key: "log_level", value: "debug"},
		{key: "log_level", value: "DEBUG", wantErr: "must be one of"},
		{key: "db_sslmode", value: "verify-full"},
		{key: "dbfilter", value: "^%d$"}, // free text: not checked
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			g := NewWithT(t)
			inst := &odoov1alpha2.OdooInstance{}
			inst.Spec.ConfigOptions = map[string]odoov1alpha2.ConfigValue{tt.key: odoov1alpha2.ConfigValue(tt.value)}
			errs := validateConfigOptions(nil, inst)
			if tt.wantErr == "" {
				g.Expect(errs).To(BeEmpty())
				return
			}
			g.Expect(errs.ToAggregate().Error()).To(ContainSubstring(tt.wantErr))
		})
	}
}

// TestValidateConfigOptionsOnlyChangedKeys: a value admitted before the check
// existed does not block an unrelated edit; changing it is checked.
func TestValidateConfigOptionsOnlyChangedKeys(t *testing.T) {
	g := NewWithT(t)
	old := &odoov1alpha2.OdooInstance{}
	old.Spec.ConfigOptions = map[string]odoov1alpha2.ConfigValue{"proxy_mode": "yes"}
	inst := old.DeepCopy()
	inst.Spec.ConfigOptions["limit_time_real"] = "600"
	g.Expect(validateConfigOptions(old, inst)).To(BeEmpty())
	inst.Spec.ConfigOptions["proxy_mode"] = "maybe"
	g.Expect(validateConfigOptions(old, inst).ToAggregate().Error()).To(ContainSubstring("spec.configOptions[proxy_mode]"))
}
