import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
import KarbonetesHTTPServer
import KarbonetesKubeClient
import KarbonetesKubeConfig
import KarbonetesModels
import KarbonetesRuntimeTestKit
import KarbonetesTLS
import Synchronization
import Testing

/// The Authorization headers a test server saw.
final class SeenTokens: Sendable {
    private let values = Mutex<[String]>([])
    func append(_ value: String) { values.withLock { $0.append(value) } }
    var all: [String] { values.withLock { $0 } }
}

@Suite("In-cluster configuration over the wire", .serialized)
struct InClusterWireTests {
    @Test("in a pod: HTTPS to KUBERNETES_SERVICE_HOST:PORT verified with ca.crt, and a rotated token file is used at the next request")
    func inClusterTokenRotation() async throws {
        let certificates = try TestCertificates.make()
        defer { try? FileManager.default.removeItem(at: certificates.directory) }
        let serviceAccount = certificates.directory.appendingPathComponent("serviceaccount").path
        try FileManager.default.createDirectory(atPath: serviceAccount, withIntermediateDirectories: true)
        try "first-token\n".write(toFile: serviceAccount + "/token", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: certificates.caCertificateFile, toPath: serviceAccount + "/ca.crt")
        try "team-a".write(toFile: serviceAccount + "/namespace", atomically: true, encoding: .utf8)

        let seen = SeenTokens()
        let job = Job(metadata: ObjectMeta(name: "train", namespace: "team-a", resourceVersion: "7"))
        let server = try HTTPServer(
            configuration: HTTPServerConfiguration(
                host: "127.0.0.1", port: 0, tls: TLSServerConfiguration(certificateFile: certificates.certificateFile, keyFile: certificates.keyFile)),
            handler: ClosureHTTPHandler { request in
                seen.append(request.headers["Authorization"] ?? "")
                guard request.path == "/apis/batch/v1/namespaces/team-a/jobs/train" else {
                    return HTTPResponse.json(Status(message: "no", reason: Status.Reason.notFound, code: 404), status: .notFound)
                }
                return HTTPResponse.json(job, encoder: KubernetesJSON.encoder)
            })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let config = try KubeConfigLoader.inCluster(
                environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": String(server.port)],
                serviceAccountDirectory: serviceAccount)
            #expect(config.namespace == "team-a")
            let client = try KubeClient(config: config)
            let first = try await client.get(Job.self, namespace: config.namespace, name: "train")
            #expect(first.metadata.resourceVersion == "7")
            try "second-token\n".write(toFile: serviceAccount + "/token", atomically: true, encoding: .utf8)
            _ = try await client.get(Job.self, namespace: config.namespace, name: "train")
            let missing = await #expect(throws: KubeAPIError.self) { try await client.get(Job.self, namespace: "team-a", name: "other") }
            #expect(missing?.isNotFound == true)
            #expect(seen.all == ["Bearer first-token", "Bearer second-token", "Bearer second-token"])
            await client.shutdown()
            group.cancelAll()
        }
    }

    @Test("a server whose certificate the service account's CA did not sign is refused")
    func wrongCA() async throws {
        let served = try TestCertificates.make()
        let other = try TestCertificates.make()
        defer {
            try? FileManager.default.removeItem(at: served.directory)
            try? FileManager.default.removeItem(at: other.directory)
        }
        let serviceAccount = other.directory.appendingPathComponent("serviceaccount").path
        try FileManager.default.createDirectory(atPath: serviceAccount, withIntermediateDirectories: true)
        try "token".write(toFile: serviceAccount + "/token", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: other.caCertificateFile, toPath: serviceAccount + "/ca.crt")
        let server = try HTTPServer(
            configuration: HTTPServerConfiguration(
                host: "127.0.0.1", port: 0, tls: TLSServerConfiguration(certificateFile: served.certificateFile, keyFile: served.keyFile)),
            handler: ClosureHTTPHandler { _ in HTTPResponse.text("should not get here") })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let config = try KubeConfigLoader.inCluster(
                environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": String(server.port)],
                serviceAccountDirectory: serviceAccount)
            let client = try KubeClient(config: config)
            let error = await #expect(throws: HTTPClientError.self) { try await client.get(Job.self, namespace: "default", name: "x") }
            #expect(error?.isTLSHandshakeFailure == true, "\(String(describing: error))")
            await client.shutdown()
            group.cancelAll()
        }
    }

    @Test("a kubeconfig with inline CA, client certificate and key data authenticates to a server that requires client certificates")
    func kubeconfigClientCertificate() async throws {
        let certificates = try TestCertificates.make()
        defer { try? FileManager.default.removeItem(at: certificates.directory) }
        let client = try certificates.makeClientCertificate(commonName: "karbonetes-controller")
        func base64(_ path: String) throws -> String { try Data(contentsOf: URL(fileURLWithPath: path)).base64EncodedString() }
        let server = try HTTPServer(
            configuration: HTTPServerConfiguration(
                host: "127.0.0.1", port: 0,
                tls: TLSServerConfiguration(
                    certificateFile: certificates.certificateFile, keyFile: certificates.keyFile, clientCAFile: certificates.caCertificateFile)),
            handler: ClosureHTTPHandler { _ in
                HTTPResponse.json(ObjectList<Job>(metadata: ListMeta(resourceVersion: "42"), items: []), encoder: KubernetesJSON.encoder)
            })
        func kubeconfig(withClientCertificate: Bool) throws -> Data {
            var user = "{}"
            if withClientCertificate {
                user = "{client-certificate-data: \(try base64(client.certificateFile)), client-key-data: \(try base64(client.keyFile))}"
            }
            return Data(
                """
                clusters:
                - name: local
                  cluster:
                    server: https://127.0.0.1:\(server.port)
                    certificate-authority-data: \(try base64(certificates.caCertificateFile))
                users:
                - name: controller
                  user: \(user)
                contexts:
                - name: local
                  context: {cluster: local, user: controller, namespace: batch}
                current-context: local
                """.utf8)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let withCertificate = try KubeClient(config: KubeConfigLoader.load(kubeconfig: kubeconfig(withClientCertificate: true), file: "/test/kubeconfig"))
            let list = try await withCertificate.list(Job.self, namespace: "batch")
            #expect(list.metadata.resourceVersion == "42")
            await withCertificate.shutdown()

            let without = try KubeClient(config: KubeConfigLoader.load(kubeconfig: kubeconfig(withClientCertificate: false), file: "/test/kubeconfig"))
            await #expect(throws: HTTPClientError.self) { try await without.list(Job.self, namespace: "batch") }
            await without.shutdown()
            group.cancelAll()
        }
    }
}
