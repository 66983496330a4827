package main

import (
	"strings"
	"testing"
)

// TestOpsSettingsValidate: each bad setting is refused naming its flag and variable.
func TestOpsSettingsValidate(t *testing.T) {
	ok := opsSettings{AdminAddr: "127.0.0.1:9090", MetricsTenants: 1}
	good := []string{"", "*", "https://lms.example.edu", "https://lms.example.edu, http://localhost:3000", "https://*.example.edu"}
	for _, origins := range good {
		o := ok
		o.CORSOrigins = origins
		if err := o.validate(); err != nil {
			t.Errorf("--cors-origins %q: %v", origins, err)
		}
	}
	o := ok
	o.TrustedProxies = "10.0.0.0/8, 192.0.2.7, 2001:db8::1"
	if nets, err := o.trustedProxies(); err != nil || len(nets) != 3 || nets[1].String() != "192.0.2.7/32" || nets[2].String() != "2001:db8::1/128" {
		t.Errorf("--trusted-proxies %q: %v %v", o.TrustedProxies, nets, err)
	}
	for _, c := range []struct {
		edit func(*opsSettings)
		want string
	}{
		{func(o *opsSettings) { o.CORSOrigins = "*, https://lms.example.edu" }, "LRS_CORS_ORIGINS"},
		{func(o *opsSettings) { o.CORSOrigins = "lms.example.edu" }, "LRS_CORS_ORIGINS"},
		{func(o *opsSettings) { o.CORSOrigins = "https://lms.example.edu/caliper" }, "LRS_CORS_ORIGINS"},
		{func(o *opsSettings) { o.CORSOrigins = "ftp://lms.example.edu" }, "LRS_CORS_ORIGINS"},
		{func(o *opsSettings) { o.RateLimit = -1 }, "LRS_RATE_LIMIT"},
		{func(o *opsSettings) { o.RateIP = -0.5 }, "LRS_RATE_LIMIT_IP"},
		{func(o *opsSettings) { o.AdminAddr = "9090" }, "LRS_ADMIN_ADDR"},
		{func(o *opsSettings) { o.MetricsTenants = 0 }, "LRS_METRICS_TENANTS"},
		{func(o *opsSettings) { o.TLSKey = "key.pem" }, "LRS_TLS_CERT"},
		{func(o *opsSettings) { o.TrustedProxies = "10.0.0.0/33" }, "LRS_TRUSTED_PROXIES"},
		{func(o *opsSettings) { o.TrustedProxies = "proxy.example.edu" }, "LRS_TRUSTED_PROXIES"},
	} {
		o := ok
		c.edit(&o)
		if err := o.validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming %s", o, err, c.want)
		}
	}
}
