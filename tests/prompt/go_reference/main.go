// Renders Ollama chat prompts with Go's own text/template, encoding/json and fmt: the
// independent reference the Python interpreter is checked against in the tests.
//
// Input (stdin): a JSON list of cases {"template", "system", "messages", "tools", "think"}.
// Output (stdout): a JSON list of rendered prompts (or {"error": ...} per case).
//
// The value types mirror the ones Ollama's template package hands to a template
// (template/template.go: templateMessage, templateToolCall, templateArgs, templateTool,
// templateToolFunction, templateToolFunctionParameters, templateProperties, and api's
// ToolProperty and PropertyType), written here from their documented shape; Ollama's
// rules before the template runs (default system, collation) are applied as server/prompt.go
// and template.go apply them. Nothing here is Ollama's code.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/template"
)

type orderedProps struct {
	keys   []string
	values map[string]ToolProperty
}

func (o *orderedProps) UnmarshalJSON(data []byte) error {
	o.values = map[string]ToolProperty{}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key := tok.(string)
		var p ToolProperty
		if err := dec.Decode(&p); err != nil {
			return err
		}
		if _, seen := o.values[key]; !seen {
			o.keys = append(o.keys, key)
		}
		o.values[key] = p
	}
	_, err := dec.Token()
	return err
}

func (o orderedProps) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.values[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type PropertyType []string

func (pt *PropertyType) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*pt = []string{s}
		return nil
	}
	var a []string
	if err := json.Unmarshal(data, &a); err != nil {
		return err
	}
	*pt = a
	return nil
}

func (pt PropertyType) MarshalJSON() ([]byte, error) {
	if len(pt) == 1 {
		return json.Marshal(pt[0])
	}
	return json.Marshal([]string(pt))
}

func (pt PropertyType) String() string {
	if len(pt) == 0 {
		return ""
	}
	if len(pt) == 1 {
		return pt[0]
	}
	return fmt.Sprintf("%v", []string(pt))
}

type ToolProperty struct {
	AnyOf       []ToolProperty `json:"anyOf,omitempty"`
	Type        PropertyType   `json:"type,omitempty"`
	Items       any            `json:"items,omitempty"`
	Description string         `json:"description,omitempty"`
	Enum        []any          `json:"enum,omitempty"`
	Properties  *orderedProps  `json:"properties,omitempty"`
	Required    []string       `json:"required,omitempty"`
}

type wireTool struct {
	Type     string `json:"type"`
	Items    any    `json:"items,omitempty"`
	Function struct {
		Name        string `json:"name"`
		Description string `json:"description,omitempty"`
		Parameters  struct {
			Type       string        `json:"type"`
			Defs       any           `json:"$defs,omitempty"`
			Items      any           `json:"items,omitempty"`
			Required   []string      `json:"required,omitempty"`
			Properties *orderedProps `json:"properties"`
		} `json:"parameters"`
	} `json:"function"`
}

type wireMessage struct {
	Role      string   `json:"role"`
	Content   string   `json:"content"`
	Thinking  string   `json:"thinking,omitempty"`
	Images    []string `json:"images,omitempty"`
	ToolName  string   `json:"tool_name,omitempty"`
	ToolCalls []struct {
		ID       string `json:"id,omitempty"`
		Function struct {
			Index     int            `json:"index"`
			Name      string         `json:"name"`
			Arguments map[string]any `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls,omitempty"`
}

type templateArgs map[string]any

func (t templateArgs) String() string {
	if t == nil {
		return "{}"
	}
	b, _ := json.Marshal(map[string]any(t))
	return string(b)
}

type templateProperties map[string]ToolProperty

func (t templateProperties) String() string {
	if t == nil {
		return "{}"
	}
	b, _ := json.Marshal(map[string]ToolProperty(t))
	return string(b)
}

type templateToolFunctionParameters struct {
	Type       string             `json:"type"`
	Defs       any                `json:"$defs,omitempty"`
	Items      any                `json:"items,omitempty"`
	Required   []string           `json:"required,omitempty"`
	Properties templateProperties `json:"properties"`
}

type templateToolFunction struct {
	Name        string                         `json:"name"`
	Description string                         `json:"description"`
	Parameters  templateToolFunctionParameters `json:"parameters"`
}

type templateTool struct {
	Type     string               `json:"type"`
	Items    any                  `json:"items,omitempty"`
	Function templateToolFunction `json:"function"`
}

func (t templateTool) String() string {
	b, _ := json.Marshal(t)
	return string(b)
}

type templateTools []templateTool

func (t templateTools) String() string {
	b, _ := json.Marshal(t)
	return string(b)
}

// Before Ollama v0.14.0 templates saw api.Tool: its ToolFunction had a String() (its
// JSON, description omitted when empty).
type legacyToolFunction struct {
	Name        string                         `json:"name"`
	Description string                         `json:"description,omitempty"`
	Parameters  templateToolFunctionParameters `json:"parameters"`
}

func (t legacyToolFunction) String() string {
	b, _ := json.Marshal(t)
	return string(b)
}

type legacyTool struct {
	Type     string             `json:"type"`
	Items    any                `json:"items,omitempty"`
	Function legacyToolFunction `json:"function"`
}

func (t legacyTool) String() string {
	b, _ := json.Marshal(t)
	return string(b)
}

type templateToolCallFunction struct {
	Index     int
	Name      string
	Arguments templateArgs
}

type templateToolCall struct {
	ID       string
	Function templateToolCallFunction
}

type templateMessage struct {
	Role       string
	Content    string
	Thinking   string
	Images     []string
	ToolCalls  []templateToolCall
	ToolName   string
	ToolCallID string
}

type testCase struct {
	Template string        `json:"template"`
	System   string        `json:"system"`
	Messages []wireMessage `json:"messages"`
	Tools    []wireTool    `json:"tools"`
	Think    *bool         `json:"think"`
	Legacy   bool          `json:"legacy"`
}

func render(c testCase) (string, error) {
	tmpl, err := template.New("").Option("missingkey=zero").Funcs(template.FuncMap{
		"json": func(v any) string { b, _ := json.Marshal(v); return string(b) },
	}).Parse(c.Template)
	if err != nil {
		return "", err
	}
	msgs := c.Messages
	if len(msgs) > 0 && msgs[0].Role != "system" && c.System != "" {
		msgs = append([]wireMessage{{Role: "system", Content: c.System}}, msgs...)
	}
	var system []string
	var collated []*templateMessage
	for _, m := range msgs {
		if m.Role == "system" {
			system = append(system, m.Content)
		}
		if len(collated) > 0 && collated[len(collated)-1].Role == m.Role && m.Role != "tool" {
			collated[len(collated)-1].Content += "\n\n" + m.Content
			continue
		}
		tm := &templateMessage{Role: m.Role, Content: m.Content, Thinking: m.Thinking, Images: m.Images, ToolName: m.ToolName}
		for _, tc := range m.ToolCalls {
			tm.ToolCalls = append(tm.ToolCalls, templateToolCall{ID: tc.ID, Function: templateToolCallFunction{
				Index: tc.Function.Index, Name: tc.Function.Name, Arguments: templateArgs(tc.Function.Arguments)}})
		}
		collated = append(collated, tm)
	}
	var tools templateTools
	if c.Tools != nil {
		for _, t := range c.Tools {
			var props templateProperties
			if t.Function.Parameters.Properties != nil {
				props = templateProperties(t.Function.Parameters.Properties.values)
			}
			tools = append(tools, templateTool{Type: t.Type, Items: t.Items, Function: templateToolFunction{
				Name: t.Function.Name, Description: t.Function.Description,
				Parameters: templateToolFunctionParameters{Type: t.Function.Parameters.Type, Defs: t.Function.Parameters.Defs,
					Items: t.Function.Parameters.Items, Required: t.Function.Parameters.Required, Properties: props}}})
		}
	}
	var toolsValue any = tools
	if c.Legacy && tools != nil {
		var legacy []legacyTool
		for _, t := range tools {
			legacy = append(legacy, legacyTool{Type: t.Type, Items: t.Items, Function: legacyToolFunction(t.Function)})
		}
		toolsValue = legacy
	}
	think := c.Think != nil && *c.Think
	var b bytes.Buffer
	err = tmpl.Execute(&b, map[string]any{
		"System": strings.Join(system, "\n\n"), "Messages": collated, "Tools": toolsValue, "Response": "",
		"Think": think, "ThinkLevel": "", "IsThinkSet": c.Think != nil,
	})
	return b.String(), err
}

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		panic(err)
	}
	var cases []testCase
	if err := json.Unmarshal(data, &cases); err != nil {
		panic(err)
	}
	out := make([]any, len(cases))
	for i, c := range cases {
		text, err := render(c)
		if err != nil {
			out[i] = map[string]string{"error": err.Error()}
		} else {
			out[i] = text
		}
	}
	b, _ := json.Marshal(out)
	os.Stdout.Write(b)
}
