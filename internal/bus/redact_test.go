package bus

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		in, want string
		secrets  []string // must not appear in the output
	}{
		{in: "nats://user:pass@h:4222", want: "nats://user:xxxxx@h:4222", secrets: []string{"pass"}},
		{in: "nats://tok@h:4222", want: "nats://xxxxx@h:4222", secrets: []string{"tok"}},
		{in: "nats://h:4222", want: "nats://h:4222"},
		{in: "nats://127.0.0.1:4222", want: "nats://127.0.0.1:4222"},
		{in: "tls://user:p%40ss@h:4222", want: "tls://user:xxxxx@h:4222", secrets: []string{"p%40ss", "p@ss"}},
		// nats.Connect takes a comma-separated server list, and COLOPHON_NATS_URL is passed
		// to it as is: every server's credentials must be hidden, not only the first one's.
		{in: "nats://a:4222,nats://b:4222", want: "nats://a:4222,nats://b:4222"},
		{in: "nats://u:s3cret@a:4222,nats://u:s3cret@b:4222", want: "nats://u:xxxxx@a:4222,nats://u:xxxxx@b:4222", secrets: []string{"s3cret"}},
		{in: "nats://a:4222,nats://u:s3cret@b:4222", want: "nats://a:4222,nats://u:xxxxx@b:4222", secrets: []string{"s3cret"}},
		{in: "nats://a:4222, nats://t0ken@b:4222", want: "nats://a:4222,nats://xxxxx@b:4222", secrets: []string{"t0ken"}},
		// nats.Connect also accepts a server without a scheme (it assumes nats://).
		{in: "u:s3cret@h:4222", want: "u:xxxxx@h:4222", secrets: []string{"s3cret"}},
		{in: "t0ken@h:4222", want: "xxxxx@h:4222", secrets: []string{"t0ken"}},
		{in: "h:4222", want: "h:4222"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := redact(tt.in)
			for _, s := range tt.secrets {
				if strings.Contains(got, s) {
					t.Errorf("redact(%q) = %q, leaks %q", tt.in, got, s)
				}
			}
			if got != tt.want {
				t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactUnparsable(t *testing.T) {
	got := redact("nats://u:s3cret@h:4222/%zz")
	if strings.Contains(got, "s3cret") {
		t.Fatalf("redact of an unparsable URL = %q, leaks the password", got)
	}
}
