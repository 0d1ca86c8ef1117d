import Foundation
import KarbonetesHTTP
import KarbonetesLifecycle
import KarbonetesTLS
import Synchronization

/// An HTTP/1.1 client for one server (the Kubernetes API server, the carbon signal), over
/// plain TCP or TLS with the cluster's own CA, with a small keep-alive pool.
///
/// Socket and TLS work runs on dedicated I/O threads and resumes the caller when done, so no
/// call blocks Swift's cooperative pool.
public final class HTTPClient: Sendable {
    public let configuration: HTTPClientConfiguration
    private let host: String
    private let port: Int
    private let useTLS: Bool
    private let serverName: String
    private let tlsContext: TLSContext?
    private let hostHeader: String
    private let pathPrefix: String
    private let token: TokenSource?
    private let idle = Mutex(IdlePool())

    private struct IdlePool: Sendable {
        var connections: [ClientConnection] = []
        var isShutDown = false
    }

    private var server: String { "\(host):\(port)" }

    public init(configuration: HTTPClientConfiguration) throws {
        ProcessSetup.ignoreSIGPIPE()
        self.configuration = configuration
        let url = configuration.baseURL
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw HTTPClientError.invalidRequest(url.absoluteString, reason: "base URL must be http(s)://host[:port]")
        }
        let unbracketed = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        self.host = unbracketed
        self.useTLS = scheme == "https"
        self.port = url.port ?? (useTLS ? 443 : 80)
        let defaultPort = useTLS ? 443 : 80
        let hostForHeader = unbracketed.contains(":") ? "[\(unbracketed)]" : unbracketed
        self.hostHeader = port == defaultPort ? hostForHeader : "\(hostForHeader):\(port)"
        let prefix = url.path
        self.pathPrefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        let tlsConfiguration = configuration.tls ?? TLSClientConfiguration()
        self.serverName = tlsConfiguration.serverName ?? unbracketed
        do {
            self.tlsContext = useTLS ? try TLSContext.client(tlsConfiguration) : nil
        } catch {
            throw HTTPClientError.tlsHandshakeFailed("\(unbracketed):\(port)", reason: "\(error)")
        }
        switch configuration.authorization {
        case .bearerToken(let value): token = .fixed("Bearer \(value)")
        case .basic(let username, let password): token = .fixed("Basic " + Data("\(username):\(password)".utf8).base64EncodedString())
        case .bearerTokenFile(let path): token = .file(TokenFile(path: path))
        case nil: token = nil
        }
    }

    /// Sends the request and reads the whole response.
    public func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        let deadline = Deadline.after(request.timeout ?? configuration.requestTimeout)
        return try await IOThreadPool.shared.run { [self] in
            // On the I/O thread too: a token file is stat'ed (and maybe read) here.
            let head = try requestHead(request)
            return try withRetry(method: request.method) { connection in
                try connection.send(head, body: request.body, deadline: deadline)
                let (response, reusable) = try connection.readResponse(
                    to: request.method,
                    deadline: deadline,
                    maxBody: configuration.maxResponseBodyBytes
                )
                return (response, reusable)
            } connect: {
                try connect(deadline: deadline)
            }
        }
    }

    /// Sends the request and returns once the response head arrived; the body is read as lines
    /// while the caller iterates ``HTTPStreamingResponse/lines``.
    public func stream(_ request: HTTPClientRequest) async throws -> HTTPStreamingResponse {
        let deadline = Deadline.after(request.timeout ?? configuration.requestTimeout)
        let (connection, responseHead) = try await IOThreadPool.shared.run { [self] in
            let head = try requestHead(request)
            let connection = try mapErrors { try connect(deadline: deadline) }
            do {
                try mapErrors {
                    try connection.send(head, body: request.body, deadline: deadline)
                }
                let responseHead = try mapErrors { try connection.readHead(to: request.method, deadline: deadline) }
                return (connection, responseHead)
            } catch {
                connection.close()
                throw error
            }
        }
        let (lines, continuation) = AsyncThrowingStream<Data, any Error>.makeStream(bufferingPolicy: .bufferingOldest(256))
        let reader = LineReader(
            connection: connection,
            continuation: continuation,
            maxLineLength: configuration.maxLineLength,
            server: server
        )
        continuation.onTermination = { _ in
            reader.cancel()
        }
        IOThreadPool.shared.submit { reader.run() }
        return HTTPStreamingResponse(
            status: responseHead.status.code,
            headers: responseHead.headers,
            lines: HTTPLineSequence(base: lines) { reader.cancel() }
        )
    }

    /// Closes idle connections; later requests fail.
    public func shutdown() async {
        let connections = idle.withLock { pool -> [ClientConnection] in
            pool.isShutDown = true
            defer { pool.connections = [] }
            return pool.connections
        }
        for connection in connections { connection.close() }
    }

    // MARK: internals

    private func requestHead(_ request: HTTPClientRequest) throws -> [UInt8] {
        guard request.path.hasPrefix("/") else {
            throw HTTPClientError.invalidRequest(server, reason: "path must start with /: \(request.path)")
        }
        var target = pathPrefix + Self.escapePath(request.path)
        if !request.query.isEmpty {
            target += "?" + request.query.map { Self.escapeQuery($0.name) + "=" + Self.escapeQuery($0.value) }.joined(separator: "&")
        }
        var headers = HTTPHeaders()
        headers.add("Host", hostHeader)
        headers.add("User-Agent", configuration.userAgent)
        if let token {
            do {
                headers.add("Authorization", try token.value())
            } catch {
                throw HTTPClientError.credentials(server, reason: "\(error)")
            }
        }
        for field in request.headers {
            if HTTPHeaders.namesMatch(field.name, "Host") || HTTPHeaders.namesMatch(field.name, "Content-Length") { continue }
            if HTTPHeaders.namesMatch(field.name, "User-Agent") || HTTPHeaders.namesMatch(field.name, "Authorization") {
                headers.replaceOrAdd(field.name, field.value)
                continue
            }
            headers.add(field.name, field.value)
        }
        if let body = request.body {
            headers.add("Content-Length", String(body.count))
        } else if [HTTPMethod.post, .put, .patch].contains(request.method) {
            headers.add("Content-Length", "0")
        }
        return HTTPSerialization.requestHead(method: request.method, target: target, headers: headers)
    }

    /// A pooled connection when one is idle and still open, else a new one.
    private func acquire(deadline: Deadline) throws -> (ClientConnection, reused: Bool) {
        while let candidate = try idle.withLock({ pool -> ClientConnection?? in
            if pool.isShutDown { throw HTTPClientError.shutDown(server) }
            return pool.connections.popLast()
        }) {
            guard let connection = candidate else { break }
            if connection.isUsable { return (connection, true) }
            connection.close()
        }
        return (try connect(deadline: deadline), false)
    }

    private func release(_ connection: ClientConnection) {
        let kept = idle.withLock { pool -> Bool in
            guard !pool.isShutDown, pool.connections.count < configuration.maxIdleConnections else { return false }
            pool.connections.append(connection)
            return true
        }
        if !kept { connection.close() }
    }

    private func connect(deadline: Deadline) throws -> ClientConnection {
        let connectDeadline = min(deadline, Deadline.after(configuration.connectTimeout))
        let socket = try Socket.connect(host: host, port: port, deadline: connectDeadline)
        if let tlsContext {
            let connection = try TLSConnection(context: tlsContext, serverName: serverName, peer: server)
            let stream = TLSStream(socket: socket, connection: connection)
            do {
                try stream.handshake(deadline: deadline)
            } catch let error as TLSError {
                socket.close()
                throw HTTPClientError.tlsHandshakeFailed(server, reason: "\(error)")
            }
            return ClientConnection(stream: stream, server: server)
        }
        return ClientConnection(stream: PlainStream(socket: socket), server: server)
    }

    /// Runs one exchange; on a reused connection that failed before any of the response
    /// arrived (the server closed it while idle), retries once on a fresh one when the method is
    /// idempotent or the request was not sent.
    private func withRetry<T>(
        method: HTTPMethod,
        _ exchange: (ClientConnection) throws -> (T, Bool),
        connect: () throws -> ClientConnection
    ) throws -> T {
        let (connection, reused) = try mapErrors { try acquire(deadline: .after(configuration.connectTimeout)) }
        do {
            let (result, reusable) = try mapErrors { try exchange(connection) }
            if reusable { release(connection) } else { connection.close() }
            return result
        } catch {
            connection.close()
            let idempotent = [HTTPMethod.get, .head, .put, .delete, .options].contains(method)
            guard reused, !connection.responseStarted, idempotent || !connection.requestSent else { throw error }
        }
        let fresh = try mapErrors { try connect() }
        do {
            let (result, reusable) = try mapErrors { try exchange(fresh) }
            if reusable { release(fresh) } else { fresh.close() }
            return result
        } catch {
            fresh.close()
            throw error
        }
    }

    private func mapErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as HTTPClientError {
            throw error
        } catch let error as SocketError {
            switch error.kind {
            case .timedOut: throw HTTPClientError.timedOut(server, during: error.detail)
            case .closed: throw HTTPClientError.connectionClosed(server, reason: error.detail)
            case .resolve, .connect, .listen: throw HTTPClientError.connectFailed(server, reason: error.detail)
            case .io: throw HTTPClientError.connectionClosed(server, reason: error.detail)
            }
        } catch let error as TLSError {
            if error.isHandshakeFailure { throw HTTPClientError.tlsHandshakeFailed(server, reason: "\(error)") }
            throw HTTPClientError.connectionClosed(server, reason: "\(error)")
        } catch let error as HTTPParseError {
            if error == .truncated(message: "response") {
                throw HTTPClientError.connectionClosed(server, reason: "before the response was complete")
            }
            throw HTTPClientError.malformedResponse(server, reason: error.description)
        }
    }

    static func escapePath(_ path: String) -> String {
        escape(path) { byte in isUnreserved(byte) || "/:@!$&'()*+,;=".utf8.contains(byte) }
    }

    static func escapeQuery(_ text: String) -> String { escape(text, keeping: isUnreserved) }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static func escape(_ text: String, keeping: (UInt8) -> Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            if keeping(byte) {
                out.append(byte)
            } else {
                out.append(contentsOf: [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
