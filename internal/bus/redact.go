package bus

import "net/url"

// redact hides credentials in a NATS URL before it is logged or returned: both
// user:password@ and a bare token@ (which url.Redacted would leave in place).
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable NATS URL)"
	}
	if u.User == nil {
		return raw
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		return u.Redacted()
	}
	u.User = url.User("xxxxx")
	return u.String()
}
