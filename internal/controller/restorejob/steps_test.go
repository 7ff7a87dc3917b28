package restorejob

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/tenantpolicy"
)

func TestNeutralizeDefaultsByEnvironment(t *testing.T) {
	for _, tc := range []struct {
		explicit *bool
		env      odoov1alpha2.Environment
		want     bool
	}{
		{nil, "", true},
		{nil, odoov1alpha2.EnvironmentStaging, true},
		{nil, odoov1alpha2.EnvironmentProduction, false},
		{ptr.To(true), odoov1alpha2.EnvironmentProduction, true},
		{ptr.To(false), odoov1alpha2.EnvironmentStaging, false},
		{ptr.To(false), "", false},
	} {
		rj := &odoov1alpha2.OdooRestoreJob{Spec: odoov1alpha2.OdooRestoreJobSpec{Neutralize: tc.explicit}}
		inst := &odoov1alpha2.OdooInstance{Spec: odoov1alpha2.OdooInstanceSpec{Environment: tc.env}}
		if got := Neutralize(rj, inst); got != tc.want {
			t.Errorf("neutralize %v, environment %q: %v, want %v", tc.explicit, tc.env, got, tc.want)
		}
	}
}

func TestUnroutableSMTPHost(t *testing.T) {
	for host, want := range map[string]bool{
		"": true, "  ": true, "localhost": true, "LOCALHOST.": true, "127.0.0.1": true, "127.0.0.53": true, "::1": true, "[::1]": true,
		"invalid": true, "mail.invalid": true, "smtp.example.org": true, "mailpit.test": true,
		"smtp.gmail.com": false, "10.0.0.5": false, "mail.shop.example.net.evil.com": false, "invalid.com": false, "::2": false,
	} {
		if got := UnroutableSMTPHost(host); got != want {
			t.Errorf("UnroutableSMTPHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestCheckNeutralized(t *testing.T) {
	odooDummy := MailServer{Table: "ir_mail_server", Name: "neutralization - disable emails", Host: "invalid"}
	routed := MailServer{Table: "ir_mail_server", Name: "odoo-operator: staging mail catcher", Host: "mailpit.mail.svc"}
	for _, tc := range []struct {
		name    string
		facts   NeutralizeFacts
		catcher string
		want    string
	}{
		{"what odoo neutralize leaves", NeutralizeFacts{Flag: "true", Active: []MailServer{odooDummy}}, "", ""},
		{"no server at all", NeutralizeFacts{Flag: "True"}, "", ""},
		{"flag missing", NeutralizeFacts{}, "", `database.is_neutralized is "", not true`},
		{"flag false", NeutralizeFacts{Flag: "false"}, "", `is "false", not true`},
		{"a real SMTP server stays active", NeutralizeFacts{Flag: "true", Active: []MailServer{odooDummy,
			{Table: "ir_mail_server", Name: "Production SMTP", Host: "smtp.shop.com"}}}, "",
			`ir_mail_server "Production SMTP" is still active with smtp_host "smtp.shop.com"`},
		{"an active fetchmail server", NeutralizeFacts{Flag: "true", Active: []MailServer{{Table: "fetchmail_server", Name: "Inbox", Host: "localhost"}}}, "",
			`fetchmail_server "Inbox" is still active`},
		{"routed to the administrator's catcher", NeutralizeFacts{Flag: "true", Active: []MailServer{routed}}, "mailpit.mail.svc", ""},
		{"the catcher's host without a catcher configured", NeutralizeFacts{Flag: "true", Active: []MailServer{routed}}, "",
			`ir_mail_server "odoo-operator: staging mail catcher" is still active with smtp_host "mailpit.mail.svc"`},
		{"a real server beside the catcher", NeutralizeFacts{Flag: "true", Active: []MailServer{routed,
			{Table: "ir_mail_server", Name: "Production SMTP", Host: "smtp.shop.com"}}}, "mailpit.mail.svc",
			`ir_mail_server "Production SMTP" is still active`},
	} {
		got := CheckNeutralized(tc.facts, tc.catcher)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestMailRouted(t *testing.T) {
	c := MailCatcher{Host: "mailpit.mail.svc", Port: 1025}
	srv := func(host string) MailServer { return MailServer{Table: "ir_mail_server", Host: host, Port: 1025} }
	for _, tc := range []struct {
		name   string
		active []MailServer
		want   bool
	}{
		{"neutralize's dummy only", []MailServer{srv("invalid")}, false},
		{"routed", []MailServer{srv("mailpit.mail.svc")}, true},
		{"routed, host in capitals", []MailServer{srv("Mailpit.Mail.Svc")}, true},
		{"one routed, the dummy left", []MailServer{srv("mailpit.mail.svc"), srv("invalid")}, false},
		{"no active server", nil, false},
		{"the catcher's host on another port", []MailServer{{Table: "ir_mail_server", Host: "mailpit.mail.svc", Port: 25}}, false},
		{"a fetchmail server does not count", []MailServer{srv("mailpit.mail.svc"), {Table: "fetchmail_server", Host: "imap"}}, true},
	} {
		if got := mailRouted(NeutralizeFacts{Flag: "true", Active: tc.active}, c); got != tc.want {
			t.Errorf("%s: mailRouted = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseMailCatcher(t *testing.T) {
	for in, want := range map[string]MailCatcher{
		"":                      {},
		"mailpit.mail.svc:1025": {Host: "mailpit.mail.svc", Port: 1025},
		"10.0.0.5:25":           {Host: "10.0.0.5", Port: 25},
		"[fd00::5]:2525":        {Host: "fd00::5", Port: 2525},
	} {
		got, err := ParseMailCatcher(in)
		if err != nil || got != want {
			t.Errorf("ParseMailCatcher(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"mailpit", "mailpit:", ":1025", "mailpit:0", "mailpit:70000", "mailpit:smtp", "mail pit:25"} {
		if _, err := ParseMailCatcher(in); err == nil {
			t.Errorf("ParseMailCatcher(%q) accepted", in)
		}
	}
}

func TestReadyOnRestored(t *testing.T) {
	ready := func(gen int64, status metav1.ConditionStatus) *odoov1alpha2.OdooInstance {
		inst := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Generation: gen},
			Spec: odoov1alpha2.OdooInstanceSpec{Replicas: ptr.To[int32](2), Cron: odoov1alpha2.CronSpec{Replicas: ptr.To[int32](1)}}}
		inst.Status.Conditions = []metav1.Condition{{Type: odoov1alpha2.ConditionReady, Status: status, ObservedGeneration: 3}}
		return inst
	}
	dep := func(name string, spec, available int32, observed bool) *appsv1.Deployment {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 5}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To(spec)}}
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: 5, AvailableReplicas: available, UpdatedReplicas: available}
		if !observed {
			d.Status.ObservedGeneration = 4
		}
		return d
	}
	held := ready(3, metav1.ConditionTrue)
	held.Annotations = map[string]string{odoov1alpha2.AnnotationRestoreHold: "back"}
	for _, tc := range []struct {
		name      string
		inst      *odoov1alpha2.OdooInstance
		web, cron *appsv1.Deployment
		want      bool
		why       string
	}{
		{"serving", ready(3, metav1.ConditionTrue), dep("shop", 2, 2, true), dep("shop-cron", 1, 1, true), true, ""},
		{"still held", held, dep("shop", 2, 2, true), dep("shop-cron", 1, 1, true), false, "still held by the restore back"},
		{"not Ready", ready(3, metav1.ConditionFalse), dep("shop", 2, 2, true), dep("shop-cron", 1, 1, true), false, "not Ready"},
		{"Ready of an older generation", ready(4, metav1.ConditionTrue), dep("shop", 2, 2, true), dep("shop-cron", 1, 1, true), false, "not Ready"},
		{"Ready left from the held state", ready(3, metav1.ConditionTrue), dep("shop", 0, 0, true), dep("shop-cron", 0, 0, true), false, "0 of 2 pods"},
		{"rollout not observed", ready(3, metav1.ConditionTrue), dep("shop", 2, 2, false), dep("shop-cron", 1, 1, true), false, "Deployment shop"},
		{"cron not available", ready(3, metav1.ConditionTrue), dep("shop", 2, 2, true), dep("shop-cron", 1, 0, true), false, "Deployment shop-cron: 0 of 1"},
		{"cron missing", ready(3, metav1.ConditionTrue), dep("shop", 2, 2, true), nil, false, "missing"},
	} {
		ok, why := ReadyOnRestored(tc.inst, tc.web, tc.cron)
		if ok != tc.want || !strings.Contains(why, tc.why) {
			t.Errorf("%s: %v %q, want %v %q", tc.name, ok, why, tc.want, tc.why)
		}
	}
}

func TestKeepPreviousDatabaseByDefault(t *testing.T) {
	for _, tc := range []struct {
		v    *bool
		want bool
	}{{nil, true}, {ptr.To(true), true}, {ptr.To(false), false}} {
		rj := &odoov1alpha2.OdooRestoreJob{Spec: odoov1alpha2.OdooRestoreJobSpec{KeepPreviousDatabase: tc.v}}
		if got := KeepPreviousDatabase(rj); got != tc.want {
			t.Errorf("%v: %v", tc.v, got)
		}
	}
}

func TestCompletedMessage(t *testing.T) {
	rj := &odoov1alpha2.OdooRestoreJob{Status: odoov1alpha2.OdooRestoreJobStatus{
		Database: "shop", KeptDatabase: "shop_pre_restore_1a2b3c4d", Neutralized: true, FilestoreMoved: ptr.To(true)}}
	for _, want := range []string{`restored s3://b/k.zip into database "shop"`, "it is neutralized",
		"filestore is in filestore/shop, the previous one kept in filestore/shop_pre_restore_1a2b3c4d",
		`previous database is kept as "shop_pre_restore_1a2b3c4d"`, "web and cron are released"} {
		if got := CompletedMessage(rj, "s3://b/k.zip"); !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	rj.Status.Neutralized, rj.Status.FilestoreMoved, rj.Status.PreviousDatabaseDropped = false, ptr.To(false), true
	rj.Spec.Neutralize = ptr.To(false)
	for _, want := range []string{"not neutralized (spec.neutralize is false)", "the backup held no filestore: the live filestore stays in filestore/shop",
		`previous database "shop_pre_restore_1a2b3c4d" was dropped`, "filestore directory filestore/shop_pre_restore_1a2b3c4d stays"} {
		if got := CompletedMessage(rj, "s3://b/k.zip"); !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	rj.Spec.Neutralize = nil
	if got := CompletedMessage(rj, "x"); !strings.Contains(got, "not neutralized (the instance is Production)") {
		t.Errorf("production: %q", got)
	}
	rj.Spec.Neutralize = ptr.To(true)
	if got := CompletedMessage(rj, "x"); !strings.Contains(got, "NOT neutralized (the restore started under an operator version without neutralize)") {
		t.Errorf("asked for but not run: %q", got)
	}
}

func TestStagingCatcher(t *testing.T) {
	flag := MailCatcher{Host: "cluster-catcher.mail.svc", Port: 1025}
	pol := func(name, catcher string) odoov1alpha2.OdooTenantPolicy {
		return odoov1alpha2.OdooTenantPolicy{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: odoov1alpha2.OdooTenantPolicySpec{StagingMailCatcher: catcher}}
	}
	for _, tc := range []struct {
		name     string
		flag     MailCatcher
		policies []odoov1alpha2.OdooTenantPolicy
		want     MailCatcher
		wantErr  string
	}{
		{name: "neither: no catcher"},
		{name: "the flag alone", flag: flag, want: flag},
		{name: "a policy without a catcher keeps the flag", flag: flag, policies: []odoov1alpha2.OdooTenantPolicy{pol("p", "")}, want: flag},
		{name: "the policy's catcher wins over the flag", flag: flag, policies: []odoov1alpha2.OdooTenantPolicy{pol("p", "team.mail.svc:2525")},
			want: MailCatcher{Host: "team.mail.svc", Port: 2525}},
		{name: "the policy's catcher without a flag", policies: []odoov1alpha2.OdooTenantPolicy{pol("p", "10.0.0.7:25")},
			want: MailCatcher{Host: "10.0.0.7", Port: 25}},
		{name: "policies disagreeing: refused, not the flag", flag: flag,
			policies: []odoov1alpha2.OdooTenantPolicy{pol("a", "one.mail.svc:25"), pol("b", "two.mail.svc:25")},
			wantErr:  "one.mail.svc:25 (OdooTenantPolicy a), two.mail.svc:25 (OdooTenantPolicy b)"},
		{name: "a policy stored with a bad value: refused, naming it", flag: flag, policies: []odoov1alpha2.OdooTenantPolicy{pol("old", "mailpit")},
			wantErr: `OdooTenantPolicy old: spec.stagingMailCatcher "mailpit" is not host:port`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := tenantpolicy.For(tc.policies, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := StagingCatcher(tc.flag, a)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("%+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
