import Foundation
import KarbonetesModels
import KarbonetesModelsTestKit
import Testing

/// The hand-written JSON paths (``JSONValue/init(parsing:)``, ``KubernetesJSON/decode(_:from:)``,
/// ``JSONValueWriter``) are held to Foundation's coders: the same values, models, errors and bytes.
@Suite("fast JSON: parser, tape decoder and writer")
struct FastJSONTests {
    static let documents: [String] = [
        #"{"a":1,"b":[true,false,null],"c":{"d":"e"},"f":-0.5,"g":1e3,"h":"\u00e9\n\"\\\/","i":[],"j":{}}"#,
        #"  [1, 2.25, -3, 12345678901234567890, 1E-7, "x"]  "#,
        #""plain""#,
        #"{"emoji":"\ud83c\udf31 green","utf8":"grün ☘"}"#,
        "42",
        "null",
    ]

    @Test("parsing gives the same JSONValue as JSONDecoder", arguments: documents)
    func parsesLikeJSONDecoder(_ text: String) throws {
        let expected = try KubernetesJSON.decoder.decode(JSONValue.self, from: Data(text.utf8))
        #expect(try JSONValue(parsing: text) == expected)
    }

    static let malformed: [(String, Int)] = [
        ("", 0), ("{", 1), (#"{"a" 1}"#, 5), (#"{"a":1,}"#, 7), ("[1,]", 3), ("[01]", 2), ("tru", 0),
        (#""\x""#, 2), ("\"a\u{01}b\"", 2), (#""\ud800""#, 7), (#""\udc00""#, 7), ("1 2", 2), ("-", 1),
        ("1.", 2), ("1e", 2), (#"{"a":1} x"#, 8), ("\"unterminated", 13), ("nul", 0), (#"{1:2}"#, 1),
    ]

    @Test("malformed JSON is an error that names the byte", arguments: malformed)
    func rejectsMalformed(_ text: String, offset: Int) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
        do {
            _ = try JSONValue(parsing: text)
        } catch {
            #expect(error.offset == offset, "\(text): \(error)")
        }
    }

    @Test("invalid UTF-8 in a string is an error, not a replacement character")
    func rejectsInvalidUTF8() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: Data(bytes)) }
        #expect(throws: DecodingError.self) { try KubernetesJSON.decode(String.self, from: Data(bytes)) }
    }

    @Test("nesting deeper than the limit is an error, not a crash")
    func rejectsDeepNesting() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: deep) }
        let limit = String(repeating: "[", count: JSONValue.maximumParseDepth) + String(repeating: "]", count: JSONValue.maximumParseDepth)
        #expect(try JSONValue(parsing: limit) != .null)
    }

    @Test("duplicate keys keep the last value, as Go's encoding/json does")
    func duplicateKeys() throws {
        #expect(try JSONValue(parsing: #"{"a":1,"a":2}"#) == ["a": 2])
        #expect(try KubernetesJSON.decode([String: Int].self, from: Data(#"{"a":1,"a":2}"#.utf8)) == ["a": 2])
    }

    @Test("the tape decoder reads Jobs as JSONDecoder does")
    func decodesJobsLikeJSONDecoder() throws {
        let now = Date(timeIntervalSince1970: 1_764_756_000)
        let fixtures: [JobFixture] = [
            .carbonAware(), .plain(), .carbonAware().held(until: now).created(at: now).resourceVersion("42"),
            .carbonAware().ownedByCronJob(scheduledAt: now).started(at: now).finished(),
            .carbonAware().podSpec("tolerations", [["key": "k", "operator": "Exists", "effect": "NoSchedule"]])
                .podSpec("nodeSelector", ["zone": "a"])
                .podSpec("affinity", ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": ["nodeSelectorTerms": [["matchExpressions": [["key": "karpenter.sh/nodepool", "operator": "In", "values": ["green-batch"]]]]]]]]),
        ]
        for fixture in fixtures {
            let data = JSONValueWriter.data(fixture.json)
            let expected = try KubernetesJSON.decoder.decode(Job.self, from: data)
            #expect(try KubernetesJSON.decode(Job.self, from: data) == expected)
        }
    }

    @Test("the tape decoder reads policies and lists as JSONDecoder does")
    func decodesOtherModels() throws {
        let policy = PolicyFixture.policy(CarbonAwarePolicySpec(maxDelay: "6h", region: "eu-west", greenThreshold: 150.5, releaseRatePerMinute: 30))
        let policyData = try KubernetesJSON.encoder.encode(policy)
        #expect(try KubernetesJSON.decode(CarbonAwarePolicy.self, from: policyData).spec == policy.spec)
        let list = #"{"metadata":{"resourceVersion":"7","continue":"x"},"items":[{"metadata":{"name":"a","namespace":"n"}}]}"#
        let expected = try KubernetesJSON.decoder.decode(ObjectList<Job>.self, from: Data(list.utf8))
        let decoded = try KubernetesJSON.decode(ObjectList<Job>.self, from: Data(list.utf8))
        #expect(decoded.items == expected.items)
        #expect(decoded.metadata.resourceVersion == "7")
    }

    static let wrongTypes: [(String, String)] = [
        (#"{"metadata":{"name":5}}"#, "metadata.name"),
        (#"{"metadata":{"labels":{"a":1}}}"#, "metadata.labels.a"),
        (#"{"metadata":{"name":"x"},"spec":{"suspend":"yes"}}"#, "spec.suspend"),
        (#"{"metadata":{"name":"x"},"spec":{"parallelism":1.5}}"#, "spec.parallelism"),
        (#"{"metadata":{"name":"x"},"spec":{"template":{"spec":{"tolerations":{"key":"k"}}}}}"#, "spec.template.spec.tolerations"),
        (#"{"metadata":{"name":"x"},"status":{"startTime":"yesterday"}}"#, "status.startTime"),
        (#"{"metadata":{"name":"x"},"spec":{"template":{"spec":{"tolerations":[{"key":7}]}}}}"#, "spec.template.spec.tolerations.0.key"),
        (#"[1]"#, ""),
    ]

    @Test("a wrongly typed field is an error naming its coding path", arguments: wrongTypes)
    func errorsNameTheField(_ text: String, expectedPath: String) {
        #expect(throws: DecodingError.self) { try KubernetesJSON.decode(Job.self, from: Data(text.utf8)) }
        do {
            _ = try KubernetesJSON.decode(Job.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            switch error {
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                #expect(context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") == expectedPath)
            case .keyNotFound(let key, _):
                Issue.record("expected a type error, got a missing key \(key.stringValue)")
            @unknown default:
                Issue.record("unexpected \(error)")
            }
        } catch {
            Issue.record("not a DecodingError: \(error)")
        }
    }

    @Test("the writer writes what KubernetesJSON.encoder writes", arguments: documents)
    func writesLikeJSONEncoder(_ text: String) throws {
        let value = try JSONValue(parsing: text)
        #expect(String(decoding: JSONValueWriter.data(value), as: UTF8.self) == String(decoding: try KubernetesJSON.encoder.encode(value), as: UTF8.self))
    }

    @Test("strings with every escape are written as JSONEncoder writes them")
    func writesEscapes() throws {
        let text = "q\"b\\s/n\nr\rt\tb\u{08}f\u{0C}z\u{00}\u{1F}é☘"
        var bytes: [UInt8] = []
        JSONValueWriter.appendString(text, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == String(decoding: try KubernetesJSON.encoder.encode(text), as: UTF8.self))
        #expect(try JSONValue(parsing: Data(bytes)) == .string(text))
    }

    @Test("a patch is written as JSONEncoder writes it")
    func writesPatches() throws {
        let patch: [JSONPatchOperation] = [
            .add("/spec/suspend", true), .test("/metadata/resourceVersion", "12"), .remove("/metadata/annotations/carbon-aware.io~1state"),
            .replace("/metadata/annotations", ["carbon-aware.io/state": "held", "n": 1.5]),
            JSONPatchOperation(op: .move, path: "/a", from: "/b"),
        ]
        #expect(patch.jsonData == (try KubernetesJSON.encoder.encode(patch)))
    }
}
