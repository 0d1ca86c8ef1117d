import DevAPIServer
import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
import KarbonetesHTTPServer
import KarbonetesModels
import KarbonetesRuntimeTestKit
import KarbonetesTLS
import Synchronization
import Testing

/// A tiny HTTPS admission webhook made with the runtime's server: `/mutate` adds an
/// annotation with a JSON patch, `/deny` refuses, `/slow` answers after 3 seconds.
final class AdmissionResponder: Sendable {
    let certificates: TestCertificates
    let server: HTTPServer

    init() throws {
        certificates = try TestCertificates.make()
        let counter = Counter()
        server = try HTTPServer(
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, tls: TLSServerConfiguration(certificateFile: certificates.certificateFile, keyFile: certificates.keyFile)),
            handler: ClosureHTTPHandler { request in
                counter.increment()
                guard let review = try? KubernetesJSON.decoder.decode(AdmissionReview.self, from: request.body), let uid = review.request?.uid else {
                    return .text("bad review", status: .badRequest)
                }
                switch request.path {
                case "/deny":
                    return .json(AdmissionReview(response: AdmissionResponse(uid: uid, allowed: false, status: Status(message: "carbon budget exhausted", code: 403))))
                case "/slow":
                    try? await Task.sleep(for: .seconds(3))
                    return .json(AdmissionReview(response: AdmissionResponse(uid: uid, allowed: true)))
                default:
                    let patch: [JSONPatchOperation] = [.add(JSONPointer(tokens: ["metadata", "annotations", "carbon-aware.io/state"]), "held")]
                    let encoded = try! KubernetesJSON.encoder.encode(patch).base64EncodedString()
                    return .json(AdmissionReview(response: AdmissionResponse(uid: uid, allowed: true, patch: encoded, patchType: "JSONPatch")))
                }
            })
        self.counter = counter
    }

    let counter: Counter

    var url: String { "https://127.0.0.1:\(server.port)" }

    final class Counter: Sendable {
        private let value = Mutex(0)
        func increment() { value.withLock { $0 += 1 } }
        var count: Int { value.withLock { $0 } }
    }
}

@Suite("Mutating admission webhooks", .serialized)
struct AdmissionTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var path: String = "/mutate"
        var failurePolicy: String = "Fail"
        var timeoutSeconds: Int = 5
        var namespaceSelector: JSONValue = [:]
        var objectSelector: JSONValue = [:]
        var resources: JSONValue = ["jobs"]
        var otherCA: Bool = false
        var unreachable: Bool = false
        var wantStatus: Int
        var wantAnnotation: Bool
        var wantCalled: Bool
        var wantMessage: String? = nil
    }

    static let cases: [Case] = [
        Case(description: "matching webhook patches the Job", wantStatus: 201, wantAnnotation: true, wantCalled: true),
        Case(description: "namespaceSelector on the namespace's name label", namespaceSelector: ["matchLabels": ["kubernetes.io/metadata.name": "default"]], wantStatus: 201, wantAnnotation: true, wantCalled: true),
        Case(description: "namespaceSelector not matching skips the call", namespaceSelector: ["matchLabels": ["carbon-aware.io/enabled": "true"]], wantStatus: 201, wantAnnotation: false, wantCalled: false),
        Case(description: "objectSelector not matching skips the call", objectSelector: ["matchExpressions": [["key": "carbon", "operator": "Exists"]]], wantStatus: 201, wantAnnotation: false, wantCalled: false),
        Case(description: "rules for another resource skip the call", resources: ["cronjobs"], wantStatus: 201, wantAnnotation: false, wantCalled: false),
        Case(description: "a denial refuses the create with the webhook's code", path: "/deny", wantStatus: 403, wantAnnotation: false, wantCalled: true, wantMessage: "admission webhook \"jobs.test.karbonetes\" denied the request: carbon budget exhausted"),
        Case(description: "unreachable webhook with failurePolicy Fail is 500", unreachable: true, wantStatus: 500, wantAnnotation: false, wantCalled: false, wantMessage: "failed calling webhook"),
        Case(description: "unreachable webhook with failurePolicy Ignore admits unchanged", failurePolicy: "Ignore", unreachable: true, wantStatus: 201, wantAnnotation: false, wantCalled: false),
        Case(description: "a certificate not signed by caBundle fails the call", otherCA: true, wantStatus: 500, wantAnnotation: false, wantCalled: false),
        Case(description: "a webhook slower than timeoutSeconds fails the call", path: "/slow", timeoutSeconds: 1, wantStatus: 500, wantAnnotation: false, wantCalled: true),
    ]

    @Test("on Job CREATE, matching webhooks are called over verified HTTPS and their patch applied", arguments: cases)
    func admission(_ testCase: Case) async throws {
        let responder = try AdmissionResponder()
        defer { responder.certificates.remove() }
        let other = try TestCertificates.make()
        defer { other.remove() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await responder.server.run() }
            try await withLiveServer { _, client in
                let url = testCase.unreachable ? "https://127.0.0.1:1/mutate" : responder.url + testCase.path
                let ca = testCase.otherCA ? other.caCertificatePEM : responder.certificates.caCertificatePEM
                let configuration: JSONValue = [
                    "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
                    "metadata": ["name": "karbonetes-test"],
                    "webhooks": [[
                        "name": "jobs.test.karbonetes", "admissionReviewVersions": ["v1"], "sideEffects": "None",
                        "failurePolicy": .string(testCase.failurePolicy), "timeoutSeconds": .number(Double(testCase.timeoutSeconds)),
                        "clientConfig": ["url": .string(url), "caBundle": .string(ca.base64EncodedString())],
                        "rules": [["operations": ["CREATE"], "apiGroups": ["batch"], "apiVersions": ["v1"], "resources": testCase.resources, "scope": "Namespaced"]],
                        "namespaceSelector": testCase.namespaceSelector, "objectSelector": testCase.objectSelector,
                    ]],
                ]
                let registered = try await client.send(.post, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", json: configuration)
                #expect(registered.status == 201)
                let started = ContinuousClock.now
                let created = try await client.send(.post, jobsPath, json: jobBody("admitted"))
                #expect(created.status == testCase.wantStatus, "\(created.body)")
                if let message = testCase.wantMessage {
                    #expect(created.body["message"]?.stringValue?.contains(message) == true, "\(created.body)")
                }
                if testCase.wantStatus == 201 {
                    let annotation = created.body.at("metadata.annotations")?["carbon-aware.io/state"]
                    #expect((annotation == "held") == testCase.wantAnnotation)
                    #expect(created.body.at("spec.selector") != nil)
                }
                #expect((responder.counter.count > 0) == testCase.wantCalled)
                if testCase.path == "/slow" { #expect(ContinuousClock.now - started < .seconds(3)) }
            }
            group.cancelAll()
        }
    }

    @Test("a webhook for UPDATE is not called on CREATE, and sees a PATCH as the update it makes")
    func updateAdmission() async throws {
        let responder = try AdmissionResponder()
        defer { responder.certificates.remove() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await responder.server.run() }
            try await withLiveServer { _, client in
                let configuration: JSONValue = [
                    "metadata": ["name": "updates"],
                    "webhooks": [[
                        "name": "updates.test.karbonetes", "admissionReviewVersions": ["v1"], "sideEffects": "None",
                        "clientConfig": ["url": .string(responder.url + "/mutate"), "caBundle": .string(responder.certificates.caCertificatePEM.base64EncodedString())],
                        "rules": [["operations": ["UPDATE"], "apiGroups": ["batch"], "apiVersions": ["v1"], "resources": ["jobs"]]],
                    ]],
                ]
                _ = try await client.send(.post, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", json: configuration)
                let created = try await client.send(.post, jobsPath, json: jobBody("later"))
                #expect(created.status == 201)
                #expect(responder.counter.count == 0)
                #expect(created.body.at("metadata.annotations")?["carbon-aware.io/state"] == nil)
                let patched = try await client.send(.patch, jobsPath + "/later", contentType: "application/merge-patch+json", body: #"{"metadata":{"labels":{"x":"y"}}}"#)
                #expect(patched.status == 200, "\(patched.body)")
                #expect(responder.counter.count == 1)
                #expect(patched.body.at("metadata.annotations")?["carbon-aware.io/state"] == "held")
                #expect(patched.body.at("metadata.labels")?["x"] == "y")
            }
            group.cancelAll()
        }
    }
}
