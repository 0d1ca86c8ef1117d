import Foundation
import KarbonetesModels
import Testing

@Suite("JSON, times and pointers")
struct EncodingTests {
    @Test("RFC 3339 times with and without fractions and offsets parse to the same instant", arguments: [
        ("2026-12-03T10:00:00Z", 1_796_292_000.0),
        ("2026-12-03T10:00:00.250000Z", 1_796_292_000.25),
        ("2026-12-03T11:00:00+01:00", 1_796_292_000.0),
        ("2026-12-03T05:30:00-04:30", 1_796_292_000.0),
    ])
    func parsesRFC3339(_ pair: (String, Double)) throws {
        let date = try #require(RFC3339.parse(pair.0))
        #expect(abs(date.timeIntervalSince1970 - pair.1) < 1e-6)
    }

    @Test("malformed times are rejected", arguments: ["", "2026-12-03", "2026-13-03T10:00:00Z", "2026-12-03T10:00:00", "2026-12-03T10:00:00Zjunk", "yesterday"])
    func rejectsBadTimes(_ text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test("times are written in UTC whole seconds, MicroTime with six digits")
    func formatsTimes() {
        let date = Date(timeIntervalSince1970: 1_796_292_000.123456)
        #expect(RFC3339.format(date) == "2026-12-03T10:00:00Z")
        #expect(RFC3339.formatMicro(date) == "2026-12-03T10:00:00.123456Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
    }

    @Test("JSON pointers escape ~ and / in tokens")
    func escapesPointerTokens() {
        let pointer = JSONPointer(tokens: ["metadata", "annotations", "carbon-aware.io/state", "a~b"])
        #expect(pointer.description == "/metadata/annotations/carbon-aware.io~1state/a~0b")
        #expect(JSONPointer(parsing: pointer.description) == pointer)
        #expect(JSONPointer(parsing: "no-slash") == nil)
        #expect(JSONPointer.escape("~/~1") == "~0~1~01")
        #expect(JSONPointer.unescape("~0~1~01") == "~/~1")
        #expect(JSONPointer.unescape("a~2b~") == "a~2b~")
        #expect(JSONPointer.escape("plain") == "plain")
    }

    @Test("a real Job with fields the models do not know decodes")
    func decodesRealJob() throws {
        let json = """
            {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"pi","namespace":"default","uid":"u1",
            "resourceVersion":"42","creationTimestamp":"2026-12-03T10:00:00Z","managedFields":[{"manager":"kubectl"}],
            "labels":{"batch.kubernetes.io/controller-uid":"u1"}},
            "spec":{"parallelism":1,"completions":1,"backoffLimit":4,"completionMode":"NonIndexed","suspend":false,
            "selector":{"matchLabels":{"batch.kubernetes.io/controller-uid":"u1"}},
            "template":{"metadata":{"labels":{"job-name":"pi"}},"spec":{"containers":[{"name":"pi","image":"perl"}],
            "restartPolicy":"Never","affinity":{"podAntiAffinity":{}},"tolerations":[{"operator":"Exists"}]}}},
            "status":{"startTime":"2026-12-03T10:00:01Z","active":1,"ready":0,"uncountedTerminatedPods":{}}}
            """
        let job = try KubernetesJSON.decoder.decode(Job.self, from: Data(json.utf8))
        #expect(job.metadata.resourceVersion == "42")
        #expect(job.spec?.template?.spec?.tolerations?.first?.operator == "Exists")
        #expect(job.spec?.template?.spec?.affinity?.nodeAffinity == nil)
        #expect(job.status?.startTime == RFC3339.parse("2026-12-03T10:00:01Z"))
    }

    @Test("a watch ERROR line carries a Status, other lines the object")
    func decodesWatchEvents() throws {
        let gone = #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}}"#
        let event = try KubernetesJSON.decoder.decode(WatchEvent<Job>.self, from: Data(gone.utf8))
        guard case .status(let status) = event.payload else {
            Issue.record("expected a status payload")
            return
        }
        #expect(status.code == 410)
        let bookmark = #"{"type":"BOOKMARK","object":{"kind":"Job","apiVersion":"batch/v1","metadata":{"resourceVersion":"12"}}}"#
        let mark = try KubernetesJSON.decoder.decode(WatchEvent<Job>.self, from: Data(bookmark.utf8))
        #expect(mark.type == .bookmark)
        #expect(mark.object?.metadata.resourceVersion == "12")
    }

    @Test("an AdmissionReview keeps the request object as raw JSON")
    func decodesAdmissionReview() throws {
        let review = """
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"705ab4f5","kind":{"group":"batch","version":"v1","kind":"Job"},
            "resource":{"group":"batch","version":"v1","resource":"jobs"},"namespace":"batch","operation":"CREATE",
            "userInfo":{"username":"admin"},"object":{"metadata":{"name":"x"},"spec":{"futureField":[1,2,{"a":null}]}},"dryRun":false}}
            """
        let decoded = try KubernetesJSON.decoder.decode(AdmissionReview.self, from: Data(review.utf8))
        let object = try #require(decoded.request?.object)
        #expect(object["spec"]?["futureField"] == [1, 2, ["a": .null]])
        #expect(try object.decode(as: Job.self).metadata.name == "x")
    }

    @Test("a JSON patch encodes value only for ops that take one")
    func encodesPatchOps() throws {
        let ops: [JSONPatchOperation] = [.add("/spec/suspend", true), .remove("/metadata/labels/a~1b")]
        let text = String(decoding: try KubernetesJSON.encoder.encode(ops), as: UTF8.self)
        #expect(text == #"[{"op":"add","path":"/spec/suspend","value":true},{"op":"remove","path":"/metadata/labels/a~1b"}]"#)
    }
}
