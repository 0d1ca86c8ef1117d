/// A long-running part of a process: an HTTP server, a watch loop, a release loop.
///
/// Graceful shutdown is task cancellation: `run()` notices that its task was cancelled,
/// finishes what it has in flight, and returns normally. Returning before it was cancelled, or
/// throwing, means the service failed, and ``ServiceGroup`` stops the rest of the process.
/// A service that conforms to `CustomStringConvertible` is named by its description in logs and
/// errors (useful when a process runs two servers of the same type), otherwise by its type.
public protocol Service: Sendable {
    func run() async throws
}

extension Service {
    /// How logs and ``ServiceGroupError`` name this service.
    var serviceName: String {
        if let described = self as? any CustomStringConvertible { return described.description }
        return String(describing: type(of: self))
    }
}
