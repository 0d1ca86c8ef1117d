public import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
import KarbonetesHTTPServer
import KarbonetesKubeConfig
import KarbonetesLogging
public import KarbonetesModels
import KarbonetesRuntimeTestKit
import KarbonetesTLS
import Synchronization

/// One write the controller sent to a Job, as the proxy saw it answered.
public struct JobWrite: Sendable, Hashable {
    public var key: ObjectKey
    public var method: String
    /// The API server's status code, or 502 when it could not be reached.
    public var status: Int
    /// When the answer came back (a successful write has been applied by then).
    public var answeredAt: Date

    public init(key: ObjectKey, method: String, status: Int, answeredAt: Date) {
        self.key = key
        self.method = method
        self.status = status
        self.answeredAt = answeredAt
    }

    public var succeeded: Bool { (200..<300).contains(status) }

    /// The Job a request path names, for writes on `/apis/batch/v1/namespaces/NS/jobs/NAME`
    /// (with or without a subresource); nil for anything else.
    public static func jobKey(path: String) -> ObjectKey? {
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count >= 7, parts[0] == "apis", parts[1] == "batch", parts[2] == "v1", parts[3] == "namespaces", parts[5] == "jobs" else {
            return nil
        }
        return ObjectKey(namespace: parts[4], name: parts[6])
    }
}

/// A TLS reverse proxy between the controller and the API server that records every write
/// to a Job and its answer: the API server's own audit log, kept outside it so that it
/// survives the API server's restarts and the controller's `kill -9`. Watches are passed
/// through line by line.
public final class RecordingProxy: Sendable {
    public let port: Int
    /// A kubeconfig pointing at the proxy (its own CA), with the API server's token.
    public let kubeconfigPath: String
    private let server: HTTPServer
    private let handler: ProxyHandler
    private let certificates: TestCertificates

    /// `upstreamKubeconfig` is the API server's; the proxy's kubeconfig is written next to it.
    public init(upstreamKubeconfig: String, directory: String) throws {
        let upstream = try KubeConfigLoader.load(kubeconfigAt: upstreamKubeconfig)
        certificates = try TestCertificates.make(commonName: "karbonetes-reliability-proxy", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        let client = try HTTPClient(
            configuration: upstream.httpClientConfiguration(userAgent: "karbonetes-reliability-proxy", requestTimeout: .seconds(3_600), connectTimeout: .seconds(2)))
        handler = ProxyHandler(upstream: client)
        server = try HTTPServer(
            configuration: HTTPServerConfiguration(
                host: "127.0.0.1", port: 0,
                tls: TLSServerConfiguration(certificateFile: certificates.certificateFile, keyFile: certificates.keyFile),
                limits: HTTPServerLimits(bodyBytes: 8 * 1024 * 1024),
                timeouts: HTTPServerTimeouts(read: .seconds(60), idle: .seconds(90), shutdownGrace: .seconds(1))),
            handler: handler)
        port = server.port
        kubeconfigPath = directory + "/proxy-kubeconfig"
        let token: String
        switch upstream.authorization {
        case .bearerToken(let value)?: token = value
        case .bearerTokenFile(let file)?: token = (try? String(contentsOfFile: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        default: token = ""
        }
        let kubeconfig = Self.kubeconfig(server: "https://127.0.0.1:\(port)", caPEM: certificates.caCertificatePEM, token: token)
        try Data(kubeconfig.utf8).write(to: URL(fileURLWithPath: kubeconfigPath))
    }

    /// Serves until cancelled.
    public func run() async throws {
        try await server.run()
    }

    /// Every Job write so far, in the order the answers came back.
    public var writes: [JobWrite] { handler.recorded.withLock { $0 } }

    /// Requests passed through, of every kind.
    public var requestCount: Int { handler.requests.load(ordering: .relaxed) }

    static func kubeconfig(server: String, caPEM: Data, token: String) -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: proxy
          cluster:
            server: \(server)
            certificate-authority-data: \(caPEM.base64EncodedString())
        users:
        - name: proxy
          user:
            token: \(token)
        contexts:
        - name: proxy
          context:
            cluster: proxy
            user: proxy
            namespace: default
        current-context: proxy

        """
    }
}

/// Forwards one request and records Job writes.
final class ProxyHandler: HTTPHandler {
    let upstream: HTTPClient
    let recorded = Mutex<[JobWrite]>([])
    let requests = Atomic<Int>(0)

    init(upstream: HTTPClient) {
        self.upstream = upstream
    }

    /// Headers that belong to one hop, or that the upstream client sets itself.
    private static let hopHeaders: Set<String> = ["connection", "keep-alive", "transfer-encoding", "host", "content-length", "authorization", "user-agent", "te", "upgrade"]

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        requests.add(1, ordering: .relaxed)
        var headers = HTTPHeaders()
        for (name, value) in request.headers where !Self.hopHeaders.contains(name.lowercased()) {
            headers.add(name, value)
        }
        let forwarded = HTTPClientRequest(
            method: request.method, path: request.path, query: request.queryItems, headers: headers,
            body: request.body.isEmpty ? nil : request.body, timeout: .seconds(30))
        let isWatch = request.method == .get && ["true", "1"].contains(request.query("watch") ?? "")
        if isWatch { return await stream(forwarded) }
        let jobKey = request.method == .get ? nil : JobWrite.jobKey(path: request.path)
        do {
            let response = try await upstream.execute(forwarded)
            if let jobKey {
                let write = JobWrite(key: jobKey, method: request.method.rawValue, status: response.status, answeredAt: Date())
                recorded.withLock { $0.append(write) }
            }
            var out = HTTPResponse(status: HTTPStatus(code: response.status), headers: HTTPHeaders(), body: .bytes(response.body))
            if let type = response.headers["Content-Type"] { out.headers.add("Content-Type", type) }
            if let retry = response.headers["Retry-After"] { out.headers.add("Retry-After", retry) }
            return out
        } catch {
            if let jobKey {
                let write = JobWrite(key: jobKey, method: request.method.rawValue, status: 502, answeredAt: Date())
                recorded.withLock { $0.append(write) }
            }
            return Self.unavailable("\(error)")
        }
    }

    private func stream(_ request: HTTPClientRequest) async -> HTTPResponse {
        var streamed = request
        streamed.timeout = nil
        let response: HTTPStreamingResponse
        do {
            response = try await upstream.stream(streamed)
        } catch {
            return Self.unavailable("\(error)")
        }
        let (body, continuation) = AsyncStream<Data>.makeStream(bufferingPolicy: .bufferingNewest(65_536))
        // The pump lives exactly as long as the downstream response: the server stops
        // iterating `body` when the controller goes away, `onTermination` cancels the pump,
        // and cancelling the pump closes the upstream watch.
        let pump = Task {
            do {
                for try await line in response.lines {
                    var chunk = line
                    chunk.append(UInt8(ascii: "\n"))
                    continuation.yield(chunk)
                }
            } catch {}
            continuation.finish()
        }
        continuation.onTermination = { _ in
            pump.cancel()
            response.cancel()
        }
        var headers = HTTPHeaders()
        headers.add("Content-Type", response.headers["Content-Type"] ?? "application/json")
        return HTTPResponse(status: HTTPStatus(code: response.status), headers: headers, body: .stream(body))
    }

    private static func unavailable(_ reason: String) -> HTTPResponse {
        let status = Status(status: "Failure", message: "proxy: the API server is unreachable: \(reason)", reason: Status.Reason.serviceUnavailable, code: 503)
        return HTTPResponse.json(status, status: HTTPStatus(code: 503))
    }
}
