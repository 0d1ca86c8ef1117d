import Foundation
import KarbonetesYAML
import Testing

@Suite("Malformed YAML")
struct YAMLErrorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var yaml: String
        var wantLine: Int
        var wantColumn: Int
        var wantProblem: String
        var testDescription: String { wantProblem }
    }

    @Test(
        "malformed input fails with the problem, the line and the column",
        arguments: [
            Case(yaml: "a: 1\nb: [1, 2\n", wantLine: 3, wantColumn: 1, wantProblem: "did not find expected ',' or ']'"),
            Case(
                yaml: "a: 1\n  b: 2\n",
                wantLine: 2,
                wantColumn: 4,
                wantProblem: "mapping values are not allowed in this context"
            ),
            Case(
                yaml: "key: \"unterminated\n",
                wantLine: 2,
                wantColumn: 1,
                wantProblem: "found unexpected end of stream"
            ),
            Case(
                yaml: "a: *nowhere\n",
                wantLine: 1,
                wantColumn: 4,
                wantProblem: "alias *nowhere refers to no anchor defined before it"
            ),
            Case(yaml: "a: 1\nb: 2\na: 3\n", wantLine: 3, wantColumn: 1, wantProblem: "duplicate mapping key \"a\""),
            Case(yaml: "? [x, y]\n: v\n", wantLine: 1, wantColumn: 3, wantProblem: "a mapping key must be a scalar"),
            Case(
                yaml: "port: !!int eighty\n",
                wantLine: 1,
                wantColumn: 7,
                wantProblem: "\"eighty\" is not a valid !!int"
            ),
            Case(
                yaml: "\tkey: value\n",
                wantLine: 1,
                wantColumn: 1,
                wantProblem: "found character that cannot start any token"
            ),
        ]
    )
    func malformed(_ testCase: Case) {
        let error = #expect(throws: YAMLError.self) { try YAML.parseDocuments(testCase.yaml, file: "input.yaml") }
        #expect(error?.line == testCase.wantLine)
        #expect(error?.column == testCase.wantColumn)
        #expect(error?.problem.hasPrefix(testCase.wantProblem) == true, "problem was: \(error?.problem ?? "none")")
        #expect(error?.description.hasPrefix("input.yaml:\(testCase.wantLine):\(testCase.wantColumn): ") == true)
    }

    @Test("a merge key whose value is not a mapping is an error at the key")
    func invalidMerge() {
        let error = #expect(throws: YAMLError.self) { try YAML.parse("base: &b [1, 2]\njob:\n  <<: *b\n") }
        #expect(error?.problem == "a << merge key takes a mapping or a list of mappings, not 1")
        #expect(error?.line == 3)
    }

    @Test("bytes that are not UTF-8 fail with a positioned error")
    func invalidUTF8() {
        let data = Data("name: caf".utf8) + Data([0xC3, 0x28]) + Data("\n".utf8)
        let error = #expect(throws: YAMLError.self) { try YAML.parseDocuments(data, file: "bad.yaml") }
        #expect(error?.problem.contains("UTF-8") == true, "problem was: \(error?.problem ?? "none")")
        #expect(error?.line == 1)
        #expect(error?.file == "bad.yaml")
    }

    @Test("an alias bomb stops at the expansion limit instead of exhausting memory")
    func aliasBomb() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let previous = "*a\(level - 1)"
            yaml += "a\(level): &a\(level) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]\n"
        }
        let error = #expect(throws: YAMLError.self) { try YAML.parse(yaml) }
        #expect(error?.problem == "aliases expand to more than 1000000 nodes")
    }

    @Test("deep nesting is refused with an error, not a stack overflow")
    func deepNesting() {
        let yaml = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let error = #expect(throws: YAMLError.self) { try YAML.parse(yaml) }
        #expect(error?.problem == "nesting deeper than 512 levels")
    }

    @Test("randomly corrupted manifests never crash: each parses or fails with a positioned YAMLError")
    func corruptedInput() {
        var random = SplitMix64(seed: 0x6B61_7262_6F6E)
        let original = Array(Fixtures.manifest.utf8) + Array(Fixtures.kubeconfig.utf8)
        let alphabet = Array(":-[]{}&*!|>'\"#%@`,? \t\n".utf8) + [0x00, 0xFF, 0xC3]
        var failures = 0
        for _ in 0..<2_000 {
            var bytes = original
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes[position] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                case 1: bytes.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: position)
                default: bytes.remove(at: position)
                }
            }
            do {
                _ = try YAML.parseDocuments(Data(bytes))
            } catch let error as YAMLError {
                failures += 1
                if error.line == nil { Issue.record("no position in \(error)") }
            } catch {
                Issue.record("unexpected error type \(error)")
            }
        }
        #expect(failures > 100)
    }

    @Test("truncated prefixes of a valid manifest either parse or fail with a positioned error")
    func truncatedInput() {
        let text = Fixtures.manifest
        var failures = 0
        for length in stride(from: 0, to: text.utf8.count, by: 7) {
            let prefix = String(decoding: text.utf8.prefix(length), as: UTF8.self)
            do {
                _ = try YAML.parseDocuments(prefix)
            } catch let error as YAMLError {
                failures += 1
                #expect(error.line != nil && error.column != nil, "\(error)")
            } catch {
                Issue.record("unexpected error type \(error)")
            }
        }
        #expect(failures > 0)
    }
}

/// A small deterministic generator, so that a failing corruption can be replayed.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
