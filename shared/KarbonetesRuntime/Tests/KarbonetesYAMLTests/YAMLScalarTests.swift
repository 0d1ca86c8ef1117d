import KarbonetesYAML
import Testing

@Suite("YAML scalars (1.2 core schema)")
struct YAMLScalarTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var yaml: String
        var want: YAMLValue
        var testDescription: String { "\(yaml) → \(want)" }
    }

    @Test(
        "plain scalars resolve by the core schema; quoted ones stay strings",
        arguments: [
            Case(yaml: "yes", want: .string("yes")),
            Case(yaml: "no", want: .string("no")),
            Case(yaml: "on", want: .string("on")),
            Case(yaml: "off", want: .string("off")),
            Case(yaml: "y", want: .string("y")),
            Case(yaml: "true", want: .bool(true)),
            Case(yaml: "False", want: .bool(false)),
            Case(yaml: "TRUE", want: .bool(true)),
            Case(yaml: "tRUE", want: .string("tRUE")),
            Case(yaml: "null", want: .null),
            Case(yaml: "~", want: .null),
            Case(yaml: "NULL", want: .null),
            Case(yaml: "42", want: .int(42)),
            Case(yaml: "-17", want: .int(-17)),
            Case(yaml: "+3", want: .int(3)),
            Case(yaml: "017", want: .int(17)),
            Case(yaml: "0o17", want: .int(15)),
            Case(yaml: "0x1F", want: .int(31)),
            Case(yaml: "0x", want: .string("0x")),
            Case(yaml: "0o8", want: .string("0o8")),
            Case(yaml: "0b101", want: .string("0b101")),
            Case(yaml: "1_000", want: .string("1_000")),
            Case(yaml: "3.25", want: .double(3.25)),
            Case(yaml: "-0.5", want: .double(-0.5)),
            Case(yaml: ".5", want: .double(0.5)),
            Case(yaml: "5.", want: .double(5)),
            Case(yaml: "1e3", want: .double(1000)),
            Case(yaml: "2.5E-2", want: .double(0.025)),
            Case(yaml: ".inf", want: .double(.infinity)),
            Case(yaml: "-.Inf", want: .double(-.infinity)),
            Case(yaml: ".NaN", want: .double(.nan)),
            Case(yaml: "1e", want: .string("1e")),
            Case(yaml: "12:30", want: .string("12:30")),
            Case(yaml: "1.2.3", want: .string("1.2.3")),
            Case(yaml: "99999999999999999999", want: .double(1e20)),
            Case(yaml: "\"true\"", want: .string("true")),
            Case(yaml: "'42'", want: .string("42")),
            Case(yaml: "\"\"", want: .string("")),
            Case(yaml: "!!str 42", want: .string("42")),
            Case(yaml: "!!int \"7\"", want: .int(7)),
            Case(yaml: "!!float 1", want: .double(1)),
            Case(yaml: "\"a\\tb\\u00e9\"", want: .string("a\tbé")),
            Case(yaml: "|\n  line one\n  line two\n", want: .string("line one\nline two\n")),
            Case(yaml: ">-\n  folded\n  text\n", want: .string("folded text")),
            Case(yaml: "", want: .null),
        ]
    )
    func scalars(_ testCase: Case) throws {
        #expect(try YAML.parse(testCase.yaml) == testCase.want)
    }

    @Test("an annotation value that YAML 1.1 reads as a boolean stays the string it was written as")
    func annotationStaysString() throws {
        let value = try YAML.parse("metadata:\n  annotations:\n    carbon-aware.io/enabled: on\n    other: \"true\"\n")
        #expect(value["metadata"]?["annotations"]?["carbon-aware.io/enabled"] == .string("on"))
        #expect(value["metadata"]?["annotations"]?["other"] == .string("true"))
    }
}
