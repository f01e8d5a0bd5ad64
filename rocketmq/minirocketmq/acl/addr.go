package acl

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// addrMatcher is a remote address strategy (RemoteAddressStrategyFactory).
type addrMatcher interface {
	match(netip.Addr) bool
}

type matchNone struct{} // blank: never (BlankRemoteAddressStrategy)

func (matchNone) match(netip.Addr) bool { return false }

type matchAll struct{} // "*" (NullRemoteAddressStrategy)

func (matchAll) match(netip.Addr) bool { return true }

// matchSet is one address or a list (One/MultipleRemoteAddressStrategy).
type matchSet map[netip.Addr]bool

func (m matchSet) match(a netip.Addr) bool { return m[a.Unmap()] }

// matchRange is RangeRemoteAddressStrategy: the groups before index must
// equal the pattern's, the group at index must be in [start, end], the
// groups after it are not looked at (as in the real broker).
type matchRange struct {
	v6         bool
	head       []uint16 // groups (IPv4: octets) before index
	start, end int
}

func (m *matchRange) match(a netip.Addr) bool {
	a = a.Unmap()
	var groups []uint16
	switch {
	case !m.v6 && a.Is4():
		b := a.As4()
		groups = []uint16{uint16(b[0]), uint16(b[1]), uint16(b[2]), uint16(b[3])}
	case m.v6 && a.Is6():
		b := a.As16()
		for i := 0; i < 16; i += 2 {
			groups = append(groups, uint16(b[i])<<8|uint16(b[i+1]))
		}
	default:
		return false
	}
	for i, g := range m.head {
		if groups[i] != g {
			return false
		}
	}
	v := int(groups[len(m.head)])
	return v >= m.start && v <= m.end
}

// parseAddrPattern builds the matcher of a whiteRemoteAddress or global
// white address, rejecting what the real broker rejects when it loads the
// file.
func parseAddrPattern(p string) (addrMatcher, error) {
	p = strings.TrimSpace(p)
	switch {
	case p == "":
		return matchNone{}, nil
	case p == "*" || p == "*.*.*.*" || p == "*:*:*:*:*:*:*:*":
		return matchAll{}, nil
	case strings.HasSuffix(p, "}"):
		open := strings.LastIndexByte(p, '{')
		if open < 0 || (strings.Contains(p, ".") && len(splitNonEmpty(p, ".")) < 4) {
			return nil, fmt.Errorf("MultipleRemoteAddressStrategy: malformed address %q", p)
		}
		var list []string
		for _, tail := range splitNonEmpty(p[open+1:len(p)-1], ",") {
			list = append(list, p[:open]+tail)
		}
		return parseSet(list)
	case strings.Contains(p, ","):
		return parseSet(splitNonEmpty(p, ","))
	case strings.ContainsAny(p, "*-"):
		return parseRange(p)
	}
	return parseSet([]string{p})
}

func parseSet(list []string) (addrMatcher, error) {
	m := make(matchSet)
	for _, s := range list {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("Netaddress examine Exception netaddress is %s", s)
		}
		m[a.Unmap()] = true
	}
	return m, nil
}

// parseRange reads "192.168.*.*", "192.168.1.1-100", "1050::5:*",
// "1050:0:0:0:5:600:300c:1-ff": the first group that is "*" or "a-b"
// decides; the groups before it are matched exactly.
func parseRange(p string) (addrMatcher, error) {
	bad := fmt.Errorf("Netaddress examine scope Exception netaddress is %s", p)
	v6 := strings.Contains(p, ":")
	var parts []string
	max := 255
	base := 10
	if v6 {
		parts = expandV6Pattern(p)
		max, base = 0xffff, 16
	} else {
		parts = strings.Split(p, ".")
		if len(parts) != 4 {
			return nil, bad
		}
	}
	m := &matchRange{v6: v6}
	for i, part := range parts {
		part = strings.TrimSpace(part)
		switch {
		case part == "*":
			if i == 0 {
				return nil, bad
			}
			m.start, m.end = 0, max
			return m, nil
		case strings.Contains(part, "-"):
			lo, hi, _ := strings.Cut(part, "-")
			a, err1 := strconv.ParseInt(lo, base, 32)
			b, err2 := strconv.ParseInt(hi, base, 32)
			if i == 0 || err1 != nil || err2 != nil || a < 0 || b > int64(max) || a > b {
				return nil, fmt.Errorf("RangeRemoteAddressStrategy netaddress examine scope Exception start is %s , end is %s", lo, hi)
			}
			m.start, m.end = int(a), int(b)
			return m, nil
		default:
			g, err := strconv.ParseInt(part, base, 32)
			if err != nil || g < 0 || g > int64(max) {
				return nil, bad
			}
			m.head = append(m.head, uint16(g))
		}
	}
	return nil, bad
}

// expandV6Pattern splits an IPv6 pattern into its 8 groups, "::" filled
// with zeros.
func expandV6Pattern(p string) []string {
	if before, after, ok := strings.Cut(p, "::"); ok {
		var l, r []string
		if before != "" {
			l = strings.Split(before, ":")
		}
		if after != "" {
			r = strings.Split(after, ":")
		}
		out := append([]string(nil), l...)
		for range 8 - len(l) - len(r) {
			out = append(out, "0")
		}
		return append(out, r...)
	}
	return strings.Split(p, ":")
}
