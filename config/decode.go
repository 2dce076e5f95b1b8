package config

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// decoder copies a generic TOML document into a typed value, collecting a
// Problem for every unknown key and mistyped value instead of stopping at the
// first.
type decoder struct {
	lines    map[string]int
	problems []Problem
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

func (d *decoder) fail(key, format string, args ...any) {
	d.problems = append(d.problems, Problem{Line: lineOf(d.lines, key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

// value stores src (decoded by go-toml into generic Go values) into dst.
func (d *decoder) value(dst reflect.Value, src any, key string) {
	if dst.CanAddr() && dst.Addr().Type().Implements(textUnmarshalerType) {
		s, ok := src.(string)
		if !ok {
			d.fail(key, "expected a string, got %s", tomlType(src))
			return
		}
		if err := dst.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			d.fail(key, "%v", err)
		}
		return
	}
	switch dst.Kind() {
	case reflect.String:
		s, ok := src.(string)
		if !ok {
			d.fail(key, "expected a string, got %s", tomlType(src))
			return
		}
		dst.SetString(s)
	case reflect.Bool:
		b, ok := src.(bool)
		if !ok {
			d.fail(key, "expected true or false, got %s", tomlType(src))
			return
		}
		dst.SetBool(b)
	case reflect.Int:
		n, ok := src.(int64)
		if !ok {
			d.fail(key, "expected an integer, got %s", tomlType(src))
			return
		}
		if dst.OverflowInt(n) {
			d.fail(key, "integer %d out of range", n)
			return
		}
		dst.SetInt(n)
	case reflect.Slice:
		arr, ok := src.([]any)
		if !ok {
			d.fail(key, "expected an array, got %s", tomlType(src))
			return
		}
		out := reflect.MakeSlice(dst.Type(), len(arr), len(arr))
		for i, v := range arr {
			el := out.Index(i)
			if el.Type() == reflect.TypeFor[AppConfig]() {
				el.Set(reflect.ValueOf(defaultApp()))
			}
			d.value(el, v, fmt.Sprintf("%s[%d]", key, i))
		}
		dst.Set(out)
	case reflect.Map:
		m, ok := src.(map[string]any)
		if !ok {
			d.fail(key, "expected a table, got %s", tomlType(src))
			return
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(m))
		for _, k := range sortedKeys(m) {
			el := reflect.New(dst.Type().Elem()).Elem()
			d.value(el, m[k], joinKey(key, k))
			out.SetMapIndex(reflect.ValueOf(k), el)
		}
		dst.Set(out)
	case reflect.Struct:
		m, ok := src.(map[string]any)
		if !ok {
			d.fail(key, "expected a table, got %s", tomlType(src))
			return
		}
		fields := tomlFields(dst.Type())
		for _, k := range sortedKeys(m) {
			idx, ok := fields[k]
			if !ok {
				d.fail(joinKey(key, k), "unknown key")
				continue
			}
			d.value(dst.Field(idx), m[k], joinKey(key, k))
		}
	default:
		d.fail(key, "cannot decode into %s", dst.Type())
	}
}

// tomlFields maps the toml tag names of t's fields to field indexes.
func tomlFields(t reflect.Type) map[string]int {
	out := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		if name != "" && name != "-" {
			out[name] = i
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// joinKey appends a key name to a key path, quoting names that are not bare keys.
func joinKey(path, name string) string {
	bare := name != ""
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			bare = false
			break
		}
	}
	if !bare {
		name = strconv.Quote(name)
	}
	if path == "" {
		return name
	}
	return path + "." + name
}

// tomlType names the TOML type of a generic decoded value.
func tomlType(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("string %q", v)
	case int64:
		return fmt.Sprintf("integer %d", v)
	case float64:
		return fmt.Sprintf("float %v", v)
	case bool:
		return fmt.Sprintf("boolean %v", v)
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	default:
		return "a date/time"
	}
}

// lineOf returns the line of key, or of the nearest enclosing key or table
// whose line is known, or 0.
func lineOf(lines map[string]int, key string) int {
	for key != "" {
		if l, ok := lines[key]; ok {
			return l
		}
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}

// keyLines maps every key path of a syntactically valid document
// ("apps[1].policies[0].include[2].emails[0]") to its line.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	arrays := map[string]int{} // array-of-tables path -> number of elements so far
	var p unstable.Parser
	p.Reset(data)
	line := func(n *unstable.Node) int { return p.Shape(n.Raw).Start.Line }

	// resolve turns the key of a table header into a concrete path, entering
	// the last element of every array of tables on the way.
	resolve := func(n *unstable.Node, arrayTable bool) string {
		var parts []*unstable.Node
		it := n.Key()
		for it.Next() {
			parts = append(parts, it.Node())
		}
		path := ""
		for i, part := range parts {
			path = joinKey(path, string(part.Data))
			last := i == len(parts)-1
			if last && arrayTable {
				idx := arrays[path]
				arrays[path] = idx + 1
				path = fmt.Sprintf("%s[%d]", path, idx)
			} else if cnt, ok := arrays[path]; ok {
				path = fmt.Sprintf("%s[%d]", path, cnt-1)
			}
			if _, ok := lines[path]; !ok || last {
				lines[path] = line(part)
			}
		}
		return path
	}

	var keyValue func(table string, kv *unstable.Node)
	var value func(path string, v *unstable.Node, fallback int)
	value = func(path string, v *unstable.Node, fallback int) {
		switch v.Kind {
		case unstable.InlineTable:
			it := v.Children()
			for it.Next() {
				if it.Node().Kind == unstable.KeyValue {
					keyValue(path, it.Node())
				}
			}
		case unstable.Array:
			i := 0
			it := v.Children()
			for it.Next() {
				el := it.Node()
				if el.Kind == unstable.Comment {
					continue
				}
				ep := fmt.Sprintf("%s[%d]", path, i)
				l := fallback
				if el.Raw.Length > 0 {
					l = line(el)
				}
				lines[ep] = l
				value(ep, el, l)
				i++
			}
		}
	}
	keyValue = func(table string, kv *unstable.Node) {
		path := table
		it := kv.Key()
		for it.Next() {
			path = joinKey(path, string(it.Node().Data))
			if _, ok := lines[path]; !ok {
				lines[path] = line(it.Node())
			}
		}
		value(path, kv.Value(), lines[path])
	}

	table := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			table = resolve(e, false)
		case unstable.ArrayTable:
			table = resolve(e, true)
		case unstable.KeyValue:
			keyValue(table, e)
		}
	}
	return lines
}
