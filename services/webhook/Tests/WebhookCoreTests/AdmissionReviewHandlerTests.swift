import Foundation
import KarbonetesLogging
import KarbonetesMetrics
import KarbonetesModels
import KarbonetesModelsTestKit
import Testing
@testable import WebhookCore

private let now = Date(timeIntervalSince1970: 1_796_292_000)

struct FixedSignal: SignalSource {
    var reading: SignalReading
    func reading(region: String) async -> SignalReading { reading }
}

/// Builds the AdmissionReview bytes the API server would send for a Job CREATE.
func review(_ job: JSONValue, uid: String = "e911857d-c318-11e8-bbad-025000000001", operation: String = "CREATE", namespace: String = "batch") -> Data {
    let body: JSONValue = [
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": [
            "uid": .string(uid), "kind": ["group": "batch", "version": "v1", "kind": "Job"],
            "resource": ["group": "batch", "version": "v1", "resource": "jobs"], "namespace": .string(namespace),
            "operation": .string(operation), "userInfo": ["username": "alice"], "object": job, "dryRun": false,
        ],
    ]
    return try! KubernetesJSON.encoder.encode(body)
}

func handler(signal: SignalReading, policies: [CarbonAwarePolicy] = []) -> AdmissionReviewHandler {
    AdmissionReviewHandler(
        policies: StaticPolicies(policies), signal: FixedSignal(reading: signal), metrics: WebhookMetrics(registry: MetricsRegistry()),
        logger: .disabled, now: { now })
}

func decodeResponse(_ data: Data) throws -> AdmissionReview {
    try KubernetesJSON.decoder.decode(AdmissionReview.self, from: data)
}

func patchOps(_ response: AdmissionResponse) throws -> [JSONPatchOperation] {
    guard let patch = response.patch else { return [] }
    let data = try #require(Data(base64Encoded: patch))
    return try JSONDecoder().decode([JSONPatchOperation].self, from: data)
}

@Suite("Admission review handling")
struct AdmissionReviewHandlerTests {
    @Test("a plain Job is allowed unchanged, with the request's uid echoed")
    func plainJob() async throws {
        let result = await handler(signal: .available(SignalFixture.dirty(at: now))).handle(body: review(JobFixture.plain().json, uid: "u-1"), contentType: "application/json")
        #expect(result.status == 200)
        let response = try #require(try decodeResponse(result.body).response)
        #expect(response.uid == "u-1")
        #expect(response.allowed)
        #expect(response.patch == nil)
        #expect(result.decision == "unchanged")
    }

    @Test("a carbon-aware Job on a dirty grid is held with a minimal JSON patch")
    func heldJob() async throws {
        let fixture = JobFixture.carbonAware()
        let result = await handler(signal: .available(SignalFixture.dirty(at: now))).handle(body: review(fixture.json), contentType: "application/json; charset=utf-8")
        let review = try decodeResponse(result.body)
        #expect(review.apiVersion == "admission.k8s.io/v1")
        let response = try #require(review.response)
        #expect(response.patchType == "JSONPatch")
        let ops = try patchOps(response)
        let patched = try JSONPatchApplier.apply(ops, to: fixture.json).decode(as: Job.self)
        #expect(patched.spec?.suspend == true)
        #expect(patched.metadata.label(CarbonAnnotations.managedLabel) == "true")
        #expect(patched.metadata.annotation(CarbonAnnotations.deadline) == "2026-12-03T16:00:00Z")
        #expect(result.decision == "deferred")
    }

    @Test("the namespace's default policy applies")
    func usesDefaultPolicy() async throws {
        let policy = PolicyFixture.policy(CarbonAwarePolicySpec(maxDelay: "1h"))
        let result = await handler(signal: .available(SignalFixture.dirty(at: now)), policies: [policy]).handle(body: review(JobFixture.carbonAware().json), contentType: "application/json")
        let ops = try patchOps(try #require(try decodeResponse(result.body).response))
        #expect(ops.contains(.add(JSONPointer(tokens: ["metadata", "annotations", CarbonAnnotations.deadline]), "2026-12-03T11:00:00Z")))
    }

    @Test("signal down with onSignalUnavailable run: allowed on the fallback pool, with a warning kubectl shows")
    func signalDown() async throws {
        let result = await handler(signal: .unavailable(reason: "connection refused")).handle(body: review(JobFixture.carbonAware().json), contentType: "application/json")
        let response = try #require(try decodeResponse(result.body).response)
        #expect(response.allowed)
        #expect(response.warnings?.first?.contains("connection refused") == true)
        #expect(result.decision == "bypassed")
    }

    struct BadRequest: Sendable, CustomTestStringConvertible {
        var name: String
        var body: Data
        var contentType: String?
        var wantStatus: Int
        var wantMessage: String
        var testDescription: String { name }
    }

    @Test("bad requests get a clear HTTP error", arguments: [
        BadRequest(name: "not JSON", body: Data("hello".utf8), contentType: "application/json", wantStatus: 400, wantMessage: "not an AdmissionReview"),
        BadRequest(name: "wrong content type", body: review(JobFixture.plain().json), contentType: "text/plain", wantStatus: 415, wantMessage: "Content-Type must be application/json"),
        BadRequest(name: "no content type", body: review(JobFixture.plain().json), contentType: nil, wantStatus: 415, wantMessage: "got none"),
        BadRequest(name: "wrong kind", body: Data(#"{"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{"uid":"x"}}"#.utf8), contentType: "application/json", wantStatus: 400, wantMessage: "expected kind AdmissionReview"),
        BadRequest(name: "v1beta1", body: Data(#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}}"#.utf8), contentType: "application/json", wantStatus: 400, wantMessage: "admission.k8s.io/v1beta1"),
        BadRequest(name: "missing request", body: Data(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.utf8), contentType: "application/json", wantStatus: 400, wantMessage: "has no request"),
        BadRequest(name: "missing uid", body: Data(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}}"#.utf8), contentType: "application/json", wantStatus: 400, wantMessage: "has no uid"),
        BadRequest(name: "a JSON array", body: Data("[1,2]".utf8), contentType: "application/json", wantStatus: 400, wantMessage: "not an AdmissionReview"),
    ])
    func badRequests(_ testCase: BadRequest) async throws {
        let result = await handler(signal: .available(SignalFixture.dirty(at: now))).handle(body: testCase.body, contentType: testCase.contentType)
        #expect(result.status == testCase.wantStatus)
        let message = try JSONDecoder().decode([String: String].self, from: result.body)["error"] ?? ""
        #expect(message.contains(testCase.wantMessage), "\(message)")
    }

    @Test("a well-formed review of an unreadable Job is allowed unchanged with a warning")
    func unreadableJob() async throws {
        let broken: JSONValue = ["metadata": ["name": "x", "annotations": ["carbon-aware.io/enabled": 5]], "spec": "not an object"]
        let result = await handler(signal: .available(SignalFixture.dirty(at: now))).handle(body: review(broken, uid: "u-9"), contentType: "application/json")
        #expect(result.status == 200)
        let response = try #require(try decodeResponse(result.body).response)
        #expect(response.uid == "u-9")
        #expect(response.allowed)
        #expect(response.patch == nil)
        #expect(response.warnings?.first?.contains("could not read the Job") == true)
    }

    @Test("an UPDATE is allowed unchanged")
    func updateUnchanged() async throws {
        let result = await handler(signal: .available(SignalFixture.dirty(at: now))).handle(body: review(JobFixture.carbonAware().json, operation: "UPDATE"), contentType: "application/json")
        #expect(try decodeResponse(result.body).response?.patch == nil)
    }

    @Test("the answer's bytes are what JSONEncoder writes for the same AdmissionReview", arguments: [
        ([], []), ([JSONPatchOperation.add("/spec/suspend", true)], []), ([], ["carbon-aware: signal down"]),
        ([JSONPatchOperation.add("/metadata/annotations/carbon-aware.io~1state", "held"), .add("/metadata/labels", ["a": "b"])], ["one", "two \"quoted\""]),
    ] as [([JSONPatchOperation], [String])])
    func answerMatchesEncoder(_ patch: [JSONPatchOperation], _ warnings: [String]) throws {
        let uid = "u-\"1\"/é"
        var response = AdmissionResponse(uid: uid, allowed: true, warnings: warnings.isEmpty ? nil : warnings)
        if !patch.isEmpty {
            response.patch = try KubernetesJSON.encoder.encode(patch).base64EncodedString()
            response.patchType = "JSONPatch"
        }
        let expected = try KubernetesJSON.encoder.encode(AdmissionReview(apiVersion: AdmissionReview.apiVersion, kind: AdmissionReview.kind, request: nil, response: response))
        let written = AdmissionReviewHandler.answer(uid: uid, apiVersion: AdmissionReview.apiVersion, patch: patch, warnings: warnings)
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
    }

    @Test("ten thousand mutated reviews each get a valid answer")
    func fuzzedReviews() async throws {
        var generator = SplitMix64(seed: 42)
        let base = review(JobFixture.carbonAware().json)
        let handler = handler(signal: .available(SignalFixture.dirty(at: now)))
        for _ in 0..<10_000 {
            var bytes = [UInt8](base)
            switch generator.next() % 4 {
            case 0: bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count))))
            case 1:
                for _ in 0..<8 { bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next()) }
            case 2: bytes = Array(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","object":"#.utf8) + Array(repeating: UInt8(ascii: "["), count: Int(generator.next() % 2000)) + Array("]}}".utf8)
            default: bytes = Array(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","object":{"metadata":{"name":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: Int(generator.next() % 100_000)) + Array(#""}}}}"#.utf8)
            }
            let result = await handler.handle(body: Data(bytes), contentType: "application/json")
            #expect([200, 400].contains(result.status))
            if result.status == 200 {
                #expect(try decodeResponse(result.body).response?.allowed == true)
            }
        }
    }
}

/// A small deterministic generator, so a failing fuzz case can be replayed.
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

@Suite("Release metadata")
struct WebhookVersionTests {
    @Test("--version prints the package's VERSION file")
    func versionMatchesFile() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("VERSION")
        #expect(try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == WebhookVersion.current)
    }
}
