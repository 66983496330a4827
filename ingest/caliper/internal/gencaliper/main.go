// Command gencaliper turns the Caliper 1.2 JSON schema (../shared/caliper/json-schema-v1p2)
// into the property tables of ingest/caliper/caliper_schema.go. Run it with `go generate ./ingest/caliper`.
//
// The schema is non-standard ("schema" for "$schema", $ref by bare type name) and is used
// here only as data: for each type, each property's kind (string, integer, date-time, entity
// of which types, list of …, vocabulary). Per-event actions and the spec's inconsistencies are
// written by hand in ingest/caliper/caliper_rules.go.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

type schemaProp struct {
	Type   any          `json:"type"`
	Format string       `json:"format"`
	Ref    string       `json:"$ref"`
	AnyOf  []schemaProp `json:"anyOf"`
	Items  *schemaProp  `json:"items"`
	Enum   []string     `json:"enum"`
}

type schemaDoc struct {
	ID         string                     `json:"id"`
	Enum       []string                   `json:"enum"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// prop is one generated property rule.
type prop struct {
	Kind string // Go constant name
	List bool
	Set  int // index into typeSets, for kindEntity
	Enum int // index into vocabularies, for kindEnum
}

func main() {
	dir := flag.String("schema", "../../../shared/caliper/json-schema-v1p2", "schema folder")
	ctxFile := flag.String("context", "../../../shared/caliper/contexts/caliper-v1p2.jsonld", "Caliper 1.2 JSON-LD context")
	out := flag.String("out", "caliper_schema.go", "output file")
	flag.Parse()

	files, err := filepath.Glob(filepath.Join(*dir, "*.json"))
	if err != nil || len(files) == 0 {
		log.Fatalf("no schema files in %s", *dir)
	}
	docs := map[string]*schemaDoc{}
	defs := map[string]schemaProp{} // CaliperTypeDefinitions#/x
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			log.Fatal(err)
		}
		var d schemaDoc
		if err := json.Unmarshal(b, &d); err != nil {
			log.Fatalf("%s: %v", f, err)
		}
		if d.ID == "CaliperTypeDefinitions" {
			var raw map[string]json.RawMessage
			_ = json.Unmarshal(b, &raw)
			for k, v := range raw {
				var p schemaProp
				if json.Unmarshal(v, &p) == nil {
					defs[k] = p
				}
			}
			continue
		}
		docs[d.ID] = &d
	}

	g := &gen{docs: docs, defs: defs, setIndex: map[string]int{}, enumIndex: map[string]int{}}
	types := map[string]map[string]prop{}
	// Sorted, so that set and vocabulary numbering is the same on every run.
	docNames := make([]string, 0, len(docs))
	for name := range docs {
		docNames = append(docNames, name)
	}
	sort.Strings(docNames)
	for _, name := range docNames {
		d := docs[name]
		if len(d.Properties) == 0 || name == "Envelope" || name == "CaliperData" {
			continue // vocabularies (Action, Status, …) and abstract placeholders
		}
		props := map[string]prop{}
		propNames := make([]string, 0, len(d.Properties))
		for pname := range d.Properties {
			propNames = append(propNames, pname)
		}
		sort.Strings(propNames)
		for _, pname := range propNames {
			raw := d.Properties[pname]
			switch pname {
			case "id", "type", "@context":
				continue // checked by the validator itself
			}
			var sp schemaProp
			if err := json.Unmarshal(raw, &sp); err != nil {
				log.Fatalf("%s.%s: %v", name, pname, err)
			}
			p, ok := g.convert(sp)
			if !ok {
				log.Fatalf("%s.%s: unhandled schema shape %s", name, pname, raw)
			}
			props[pname] = p
		}
		types[typeName(name)] = props
	}
	terms, err := contextTerms(*ctxFile)
	if err != nil {
		log.Fatal(err)
	}
	src := g.emit(types, terms)
	formatted, err := format.Source(src)
	if err != nil {
		os.WriteFile(*out, src, 0o644)
		log.Fatalf("format: %v", err)
	}
	if err := os.WriteFile(*out, formatted, 0o644); err != nil {
		log.Fatal(err)
	}
}

// typeName maps the schema's file ids to Caliper type terms (epubChapter → EpubChapter).
func typeName(id string) string {
	if strings.HasPrefix(id, "epub") {
		return "Epub" + id[len("epub"):]
	}
	return id
}

type gen struct {
	docs      map[string]*schemaDoc
	defs      map[string]schemaProp
	sets      [][]string
	setIndex  map[string]int
	enums     [][]string
	enumIndex map[string]int
}

func (g *gen) convert(sp schemaProp) (prop, bool) {
	if sp.Ref != "" {
		if def, ok := strings.CutPrefix(sp.Ref, "CaliperTypeDefinitions#/"); ok {
			if def == "extensions" {
				return prop{Kind: "kindObject"}, true
			}
			d, ok := g.defs[def]
			if !ok {
				return prop{}, false
			}
			return g.convert(d)
		}
		switch sp.Ref {
		case "Action":
			return prop{Kind: "kindAction"}, true
		case "Profile":
			return prop{Kind: "kindProfile"}, true
		}
		if d, ok := g.docs[sp.Ref]; ok && len(d.Enum) > 0 {
			return prop{Kind: "kindEnum", Enum: g.enum(d.Enum)}, true
		}
		return prop{Kind: "kindEntity", Set: g.set([]string{typeName(sp.Ref)})}, true
	}
	if len(sp.AnyOf) > 0 {
		var refs []string
		for _, a := range sp.AnyOf {
			if a.Ref != "" {
				refs = append(refs, typeName(a.Ref))
			}
		}
		if len(refs) == 0 {
			return prop{Kind: "kindAny"}, true
		}
		return prop{Kind: "kindEntity", Set: g.set(refs)}, true
	}
	t, _ := sp.Type.(string)
	switch t {
	case "array":
		if sp.Items == nil {
			return prop{Kind: "kindAny", List: true}, true
		}
		p, ok := g.convert(*sp.Items)
		p.List = true
		return p, ok
	case "string":
		if len(sp.Enum) > 0 {
			return prop{Kind: "kindEnum", Enum: g.enum(sp.Enum)}, true
		}
		switch sp.Format {
		case "date-time":
			return prop{Kind: "kindDateTime"}, true
		case "duration":
			return prop{Kind: "kindDuration"}, true
		}
		return prop{Kind: "kindString"}, true
	case "number":
		switch sp.Format {
		case "uint32", "long", "int32", "int64":
			return prop{Kind: "kindInteger"}, true
		}
		return prop{Kind: "kindNumber"}, true
	case "boolean":
		return prop{Kind: "kindBoolean"}, true
	case "object":
		return prop{Kind: "kindObject"}, true
	}
	return prop{}, false
}

func (g *gen) set(types []string) int {
	types = slices.Clone(types)
	sort.Strings(types)
	types = slices.Compact(types)
	key := strings.Join(types, ",")
	if i, ok := g.setIndex[key]; ok {
		return i
	}
	g.sets = append(g.sets, types)
	g.setIndex[key] = len(g.sets) - 1
	return len(g.sets) - 1
}

func (g *gen) enum(values []string) int {
	key := strings.Join(values, ",")
	if i, ok := g.enumIndex[key]; ok {
		return i
	}
	g.enums = append(g.enums, values)
	g.enumIndex[key] = len(g.enums) - 1
	return len(g.enums) - 1
}

// contextTerms reads the typed property terms of a JSON-LD context:
// term → Go rule literal, from the term's @type and @container.
func contextTerms(file string) (map[string]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Context map[string]json.RawMessage `json:"@context"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	kinds := map[string]string{
		"@id":                    "kind: kindEntity, anyEntity: true",
		"@vocab":                 "kind: kindString",
		"xsd:string":             "kind: kindString",
		"xsd:dateTime":           "kind: kindDateTime",
		"xsd:decimal":            "kind: kindNumber",
		"xsd:float":              "kind: kindNumber",
		"xsd:integer":            "kind: kindInteger",
		"xsd:nonNegativeInteger": "kind: kindInteger",
		"xsd:long":               "kind: kindInteger",
		"xsd:boolean":            "kind: kindBoolean",
		"xsd:duration":           "kind: kindDuration",
		"":                       "kind: kindAny",
	}
	terms := map[string]string{}
	for term, raw := range doc.Context {
		var def struct {
			Type      string `json:"@type"`
			Container string `json:"@container"`
		}
		if json.Unmarshal(raw, &def) != nil || strings.HasPrefix(term, "@") {
			continue // plain IRI mappings: classes and vocabulary terms, not properties
		}
		k, ok := kinds[def.Type]
		if !ok {
			return nil, fmt.Errorf("%s: term %s has unhandled @type %q", file, term, def.Type)
		}
		if def.Container == "@list" {
			k += ", list: true"
		}
		terms[term] = k
	}
	return terms, nil
}

func (g *gen) emit(types map[string]map[string]prop, terms map[string]string) []byte {
	var b bytes.Buffer
	fmt.Fprintln(&b, "// Code generated by gencaliper from the Caliper 1.2 JSON schema. DO NOT EDIT.")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "package caliper")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "// schemaTypeSets are the sets of entity types a property may hold, as the schema lists them.")
	fmt.Fprintln(&b, "var schemaTypeSets = [...][]string{")
	for i, s := range g.sets {
		fmt.Fprintf(&b, "\t%d: {%s},\n", i, quoteAll(s))
	}
	fmt.Fprintln(&b, "}")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "// schemaVocabularies are the controlled values of enumerated properties.")
	fmt.Fprintln(&b, "var schemaVocabularies = [...][]string{")
	for i, s := range g.enums {
		fmt.Fprintf(&b, "\t%d: {%s},\n", i, quoteAll(s))
	}
	fmt.Fprintln(&b, "}")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "// schemaProps gives, for each Caliper type, the rule of each of its properties.")
	fmt.Fprintln(&b, "var schemaProps = map[string]map[string]propRule{")
	names := make([]string, 0, len(types))
	for n := range types {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "\t%q: {\n", n)
		pnames := make([]string, 0, len(types[n]))
		for p := range types[n] {
			pnames = append(pnames, p)
		}
		sort.Strings(pnames)
		for _, pn := range pnames {
			p := types[n][pn]
			fmt.Fprintf(&b, "\t\t%q: {kind: %s", pn, p.Kind)
			if p.List {
				fmt.Fprint(&b, ", list: true")
			}
			if p.Kind == "kindEntity" {
				fmt.Fprintf(&b, ", set: %d", p.Set)
			}
			if p.Kind == "kindEnum" {
				fmt.Fprintf(&b, ", vocab: %d", p.Enum)
			}
			fmt.Fprintln(&b, "},")
		}
		fmt.Fprintln(&b, "\t},")
	}
	fmt.Fprintln(&b, "}")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "// contextTerms are the property terms the Caliper 1.2 context defines, with the")
	fmt.Fprintln(&b, "// kind of value its @type implies: the rule for a Caliper property the schema omits.")
	fmt.Fprintln(&b, "var contextTerms = map[string]propRule{")
	tnames := make([]string, 0, len(terms))
	for t := range terms {
		tnames = append(tnames, t)
	}
	sort.Strings(tnames)
	for _, t := range tnames {
		fmt.Fprintf(&b, "\t%q: {%s},\n", t, terms[t])
	}
	fmt.Fprintln(&b, "}")
	return b.Bytes()
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
