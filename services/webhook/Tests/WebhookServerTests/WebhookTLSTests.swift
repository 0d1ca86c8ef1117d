import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
import KarbonetesHTTPServer
import KarbonetesLogging
import KarbonetesMetrics
import KarbonetesModels
import KarbonetesModelsTestKit
import KarbonetesRuntimeTestKit
import KarbonetesTLS
import Testing
import WebhookCore
import WebhookServer

struct DirtySignal: SignalSource {
    func reading(region: String) async -> SignalReading { .available(SignalFixture.dirty(at: Date())) }
}

/// The webhook's routes on a live HTTPS server on port 0, hit as the API server hits them.
@Suite("Webhook over TLS", .serialized)
struct WebhookTLSTests {
    static func review(_ job: JSONValue) -> Data {
        let body: JSONValue = [
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": ["uid": "tls-1", "kind": ["group": "batch", "version": "v1", "kind": "Job"], "namespace": "batch", "operation": "CREATE", "object": job],
        ]
        return try! KubernetesJSON.encoder.encode(body)
    }

    func withServer(_ body: (Int, TestCertificates, MetricsRegistry) async throws -> Void) async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let registry = MetricsRegistry()
        let policies = StaticPolicies()
        let handler = AdmissionReviewHandler(policies: policies, signal: DirtySignal(), metrics: WebhookMetrics(registry: registry), logger: .disabled)
        let server = try HTTPServer(
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, tls: TLSServerConfiguration(certificateFile: certificates.certificateFile, keyFile: certificates.keyFile)),
            handler: WebhookRoutes.admission(handler: handler, policies: policies))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            try await body(server.port, certificates, registry)
            group.cancelAll()
        }
    }

    @Test("a carbon-aware Job POSTed over HTTPS is answered with a JSON patch that holds it")
    func admitsOverTLS() async throws {
        try await withServer { port, certificates, registry in
            let client = try HTTPClient(configuration: HTTPClientConfiguration(
                baseURL: URL(string: "https://127.0.0.1:\(port)")!, tls: TLSClientConfiguration(trustRoots: .pem(.file(certificates.caCertificateFile)))))
            var headers = HTTPHeaders()
            headers.add("Content-Type", "application/json")
            let response = try await client.execute(HTTPClientRequest(method: .post, path: WebhookRoutes.mutatePath, headers: headers, body: Self.review(JobFixture.carbonAware().json)))
            #expect(response.status == 200)
            let review = try KubernetesJSON.decoder.decode(AdmissionReview.self, from: response.body)
            #expect(review.response?.uid == "tls-1")
            #expect(review.response?.patchType == "JSONPatch")
            let ready = try await client.execute(HTTPClientRequest(path: "/readyz"))
            #expect(ready.status == 200)
            await client.shutdown()
            #expect(WebhookMetrics(registry: registry).admissions.value(labels: ["decision": "deferred"]) == 1)
        }
    }

    @Test("curl gets 415 for a wrong Content-Type and 404 for another path")
    func curlErrors() async throws {
        try await withServer { port, certificates, _ in
            func curl(_ arguments: [String]) throws -> String {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                process.arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", certificates.caCertificateFile] + arguments
                let pipe = Pipe()
                process.standardOutput = pipe
                try process.run()
                process.waitUntilExit()
                return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            }
            let url = "https://127.0.0.1:\(port)\(WebhookRoutes.mutatePath)"
            let wrongType = try curl(["-X", "POST", "-H", "Content-Type: text/plain", "--data", "x", url])
            let notJSON = try curl(["-X", "POST", "-H", "Content-Type: application/json", "--data", "{", url])
            let unknownPath = try curl(["https://127.0.0.1:\(port)/nope"])
            #expect(wrongType == "415")
            #expect(notJSON == "400")
            #expect(unknownPath == "404")
        }
    }
}
