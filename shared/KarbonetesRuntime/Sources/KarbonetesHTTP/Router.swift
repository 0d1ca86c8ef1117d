/// Routes by exact path and method. Exact paths only, because every service here serves a
/// handful of fixed endpoints; anything else goes to the fallback.
///
/// An unknown path answers 404; a known path asked with another method answers 405 with an
/// `Allow` header listing the methods it has, as RFC 9110 asks.
public struct Router: HTTPHandler {
    public typealias Handle = @Sendable (HTTPRequest) async -> HTTPResponse

    private var routes: [String: [HTTPMethod: Handle]] = [:]
    private var fallbackHandler: Handle?

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ path: String, _ handler: @escaping Handle) {
        routes[path, default: [:]][method] = handler
    }

    public mutating func add(_ method: HTTPMethod, _ path: String, _ handler: some HTTPHandler) {
        add(method, path) { request in await handler.handle(request) }
    }

    /// Called for paths no route has, instead of the 404.
    public mutating func fallback(_ handler: @escaping Handle) { fallbackHandler = handler }

    /// The methods `path` answers, for tests and for `Allow`.
    public func methods(for path: String) -> [HTTPMethod] {
        (routes[path].map { Array($0.keys) } ?? []).sorted { $0.rawValue < $1.rawValue }
    }

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard let byMethod = routes[request.path] else {
            if let fallbackHandler { return await fallbackHandler(request) }
            return .text("not found: \(request.path)\n", status: .notFound)
        }
        if let handler = byMethod[request.method] { return await handler(request) }
        if request.method == .head, let get = byMethod[.get] {
            var response = await get(request)
            if case .stream = response.body { response.body = .empty }
            return response
        }
        var response = HTTPResponse.text(
            "method \(request.method) not allowed on \(request.path)\n",
            status: .methodNotAllowed
        )
        var allowed = methods(for: request.path).map(\.rawValue)
        if byMethod[.get] != nil && byMethod[.head] == nil { allowed.append("HEAD") }
        response.headers.replaceOrAdd("Allow", allowed.sorted().joined(separator: ", "))
        return response
    }
}
