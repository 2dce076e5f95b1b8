package config

import (
	"net"
	"strconv"
	"time"
)

// MinKeyRotation is the shortest keys.rotate_every accepted (0 disables).
const MinKeyRotation = time.Hour

// ops checks the [metrics] and [keys] tables.
func (v *validator) ops(c *Config) {
	if l := c.Metrics.Listen; l != "" {
		host, port, err := net.SplitHostPort(l)
		n, perr := strconv.Atoi(port)
		switch {
		case err != nil:
			v.add("metrics.listen", "%q: not a host:port address such as \"127.0.0.1:9191\"", l)
		case perr != nil || n < 0 || n > 65535:
			v.add("metrics.listen", "%q: port out of range 0..65535", l)
		case host != "" && net.ParseIP(host) == nil && host != "localhost":
			v.add("metrics.listen", "%q: the host must be an IP address or localhost", l)
		case l == c.Listen || (c.TLS.Mode != "off" && l == c.ListenHTTPS):
			v.add("metrics.listen", "%q: must differ from the proxy's listen addresses", l)
		}
	}
	if d := c.Keys.RotateEvery.Duration; d != 0 && d < MinKeyRotation {
		v.add("keys.rotate_every", "%s: shorter than the minimum %s (\"0s\" disables rotation)", d, MinKeyRotation)
	} else if d < 0 {
		v.add("keys.rotate_every", "%s: must not be negative", d)
	}
}
