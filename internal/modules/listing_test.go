package modules

import (
	"errors"
	"testing"

	. "github.com/onsi/gomega"
)

const (
	lp = "odoo-operator-preflight: "
	ep = "odoo-operator-preflight-end: "
)

func TestParseListing(t *testing.T) {
	shop := Shipped{Name: "odoo_operator_shop", Version: "18.0.2.0.0", Depends: []string{"base"}, Installable: true}
	base := Shipped{Name: "base", Version: "18.0.1.3", Depends: []string{}, Installable: true}
	tests := []struct {
		name    string
		log     string
		want    []Shipped
		wantErr string
	}{
		{name: "listing among Odoo's log lines", log: "2026-12-07 12:00:00,000 1 WARNING ? odoo: something\n" +
			lp + `{"name": "odoo_operator_shop", "version": "18.0.2.0.0", "depends": ["base"], "installable": true}` + "\n" +
			lp + `{"name": "base", "version": "18.0.1.3", "depends": [], "installable": true}` + "\n" + ep + "2\n",
			want: []Shipped{shop, base}},
		{name: "empty listing", log: ep + "0\n", want: nil},
		{name: "stderr merged after the count", log: lp + `{"name": "base", "version": "18.0.1.3", "depends": [], "installable": true}` + "\n" + ep + "1Warn: Can't find .pfb for face 'Courier'\n",
			want: []Shipped{base}},
		{name: "no end line (cut short, or not an Odoo image)", log: lp + `{"name": "base", "version": "18.0.1.3", "installable": true}` + "\n", wantErr: "no complete module listing"},
		{name: "empty log", log: "", wantErr: "no complete module listing"},
		{name: "count does not match", log: lp + `{"name": "base", "installable": true}` + "\n" + ep + "3\n", wantErr: `announced "3" modules and listed 1`},
		{name: "no count", log: ep + "many\n", wantErr: `announced "" modules`},
		{name: "malformed JSON", log: lp + `{"name": ` + "\n" + ep + "1\n", wantErr: "malformed line"},
		{name: "a name that is no module name", log: lp + `{"name": "../../etc", "installable": true}` + "\n" + ep + "1\n", wantErr: "malformed line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := ParseListing([]byte(tt.log), lp, ep)
			if tt.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tt.wantErr)))
				g.Expect(errors.Is(err, ErrListingIncomplete)).To(BeTrue())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tt.want))
		})
	}
}
