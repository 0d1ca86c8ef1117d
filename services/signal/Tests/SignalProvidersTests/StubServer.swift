import Foundation
import KarbonetesHTTP
import KarbonetesHTTPServer
import Synchronization

/// A local HTTP server on port 0 that answers recorded responses by path and remembers every
/// request, so an adapter's wire behaviour is tested without the internet.
final class StubServer: Sendable {
    struct Canned: Sendable {
        var status: Int
        var body: String
        var headers: [(String, String)] = []
    }

    private let routes = Mutex<[String: [Canned]]>([:])
    private let seen = Mutex<[HTTPRequest]>([])

    /// Answers `path` with `responses` in turn (the last one repeats).
    func on(_ path: String, _ responses: Canned...) { routes.withLock { $0[path] = responses } }

    var requests: [HTTPRequest] { seen.withLock { $0 } }

    func requests(to path: String) -> [HTTPRequest] { requests.filter { Self.decodedPath($0) == path } }

    static func decodedPath(_ request: HTTPRequest) -> String { request.path.removingPercentEncoding ?? request.path }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        seen.withLock { $0.append(request) }
        let path = Self.decodedPath(request)
        let canned = routes.withLock { routes -> Canned? in
            guard var queue = routes[path], !queue.isEmpty else { return nil }
            let next = queue.count > 1 ? queue.removeFirst() : queue[0]
            routes[path] = queue
            return next
        }
        guard let canned else { return .text("no stub for \(path)\n", status: .notFound) }
        var response = HTTPResponse.jsonData(Data(canned.body.utf8), status: HTTPStatus(code: canned.status))
        for (name, value) in canned.headers { response.headers.replaceOrAdd(name, value) }
        return response
    }

    /// Runs `body` with the stub listening, then stops it.
    func serving(_ body: (_ baseURL: String) async throws -> Void) async throws {
        try await Self.serving(ClosureHTTPHandler { [self] in handle($0) }, body)
    }

    /// Runs `body` with `handler` listening on a loopback port, then stops it.
    static func serving(_ handler: some HTTPHandler, _ body: (_ baseURL: String) async throws -> Void) async throws {
        let server = try HTTPServer(
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), handler: handler)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            do {
                try await body("http://127.0.0.1:\(server.port)")
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }
}
