package bus

import (
	"net/url"
	"strings"
)

// redact hides credentials in a NATS URL before it is logged or returned: both
// user:password@ and a bare token@ (which url.Redacted would leave in place). Like
// nats.Connect, it takes a comma-separated list of servers, each with or without a scheme,
// and hides the credentials of every one of them.
func redact(raw string) string {
	var out []string
	for _, s := range strings.Split(raw, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		r, ok := redactServer(s)
		if !ok {
			return "(unparsable NATS URL)"
		}
		out = append(out, r)
	}
	return strings.Join(out, ",")
}

func redactServer(s string) (string, bool) {
	const implied = "nats://" // what nats.Connect assumes for a server given without a scheme
	schemeless := !strings.Contains(s, "://")
	full := s
	if schemeless {
		full = implied + s
	}
	u, err := url.Parse(full)
	if err != nil {
		return "", false
	}
	if u.User == nil {
		return s, true
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		full = u.Redacted()
	} else {
		u.User = url.User("xxxxx")
		full = u.String()
	}
	if schemeless {
		full = strings.TrimPrefix(full, implied)
	}
	return full, true
}
