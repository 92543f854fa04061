package sim

import (
	"bytes"
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"
)

// The sample files keep LF line ends so they read well in an editor and in
// diffs; Sample turns them into the CR record/segment terminators of the
// wire.
//
//go:embed messages
var messageFiles embed.FS

// SampleInfo describes one shipped sample message.
type SampleInfo struct {
	Name        string   // file name, e.g. "chemistry.astm"
	Protocol    Protocol // from the extension: .astm, .hl7, .txt (line)
	Description string
}

// describe returns the description of a shipped sample (a switch rather
// than a package-level map, so there is no mutable global).
func describe(name string) string {
	switch name {
	case "chemistry.astm":
		return "chemistry analyser: 10 results (glucose, HbA1c, CRP, lipids, ...) with comma decimals and > values"
	case "haematology.astm":
		return "haematology analyser: complete blood count, rack/position in O.4"
	case "urine.astm":
		return "urine strip reader: semi-quantitative values such as 3+ and NEG"
	case "qc.astm":
		return "quality control run: order action code Q, control lot comment, manufacturer record"
	case "query.astm":
		return "host query: the analyser asks for the orders of one sample"
	case "custom-delimiters.astm":
		return "ASTM message declaring the delimiters !@~$ instead of |\\^&"
	case "poct-glucose-oru.hl7":
		return "HL7 ORU^R01 from a point-of-care glucose meter"
	case "oul-r22.hl7":
		return "HL7 OUL^R22 (specimen oriented) from a point-of-care HbA1c analyser"
	case "spirometry-oru.hl7":
		return "HL7 ORU^R01 from a spirometer with numeric results"
	case "scale.txt":
		return "body scale printing one reading per line"
	case "thermometer.txt":
		return "thermometer printing one reading per line"
	}
	return ""
}

// Samples lists the shipped sample messages, sorted by name.
func Samples() []SampleInfo {
	entries, err := messageFiles.ReadDir("messages")
	if err != nil {
		return nil // cannot happen: the directory is embedded
	}
	out := make([]SampleInfo, 0, len(entries))
	for _, e := range entries {
		out = append(out, SampleInfo{Name: e.Name(), Protocol: protocolOf(e.Name()), Description: describe(e.Name())})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Sample returns the named sample in wire form: ASTM records and HL7
// segments end in CR; line samples keep one reading per LF-ended line.
func Sample(name string) ([]byte, error) {
	b, err := messageFiles.ReadFile(path.Join("messages", name))
	if err != nil {
		return nil, fmt.Errorf("sim: sample %q: %w", name, err)
	}
	if p := protocolOf(name); p == ASTM || p == HL7 {
		b = bytes.ReplaceAll(b, []byte("\n"), []byte("\r"))
	}
	return b, nil
}

func protocolOf(name string) Protocol {
	switch {
	case strings.HasSuffix(name, ".astm"):
		return ASTM
	case strings.HasSuffix(name, ".hl7"):
		return HL7
	default:
		return Line
	}
}
