package access

import (
	"net/netip"
	"strings"
)

// Client is where a request comes from: what the network selectors
// (ip_ranges, countries) judge, on every request.
type Client struct {
	IP      netip.Addr // zero when not known
	Country string     // ISO 3166-1 alpha-2, upper case; "" when not known
}

// iso3166 lists the officially assigned ISO 3166-1 alpha-2 codes.
const iso3166 = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ " +
	"BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM " +
	"DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS " +
	"GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN " +
	"KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ " +
	"MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM " +
	"PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV " +
	"SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI " +
	"VN VU WF WS YE YT ZA ZM ZW"

// CountryCode returns code as an ISO 3166-1 alpha-2 country code in upper
// case, and whether it is one (assigned codes only: not "XX", "T1", "EU").
func CountryCode(code string) (string, bool) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		return "", false
	}
	// Two letters only ever match inside one code of the list, which
	// starts at a multiple of three.
	if i := strings.Index(iso3166, c); i < 0 || i%3 != 0 {
		return "", false
	}
	return c, true
}

// matchCountry reports whether country (known, upper case) is in list.
func matchCountry(list []string, country string) bool {
	if country == "" {
		return false
	}
	for _, c := range list {
		if strings.EqualFold(strings.TrimSpace(c), country) {
			return true
		}
	}
	return false
}
