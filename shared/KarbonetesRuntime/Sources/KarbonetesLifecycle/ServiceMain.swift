import Foundation
public import KarbonetesLogging

/// The one way a Karbonetes executable's `main` ends.
public enum ServiceMain {
    /// Runs the group and exits the process: 0 after a graceful shutdown, 1 (with the failing
    /// service named in one log line) when a service failed. Kubernetes reads the exit code, and
    /// the log line is what `kubectl logs --previous` shows.
    public static func run(_ group: ServiceGroup, logger: Logger) async -> Never {
        ProcessSetup.ignoreSIGPIPE()
        do {
            try await group.run()
            logger.notice("shut down cleanly")
            exit(0)
        } catch {
            logger.critical("exiting after a failure: \(error)", metadata: ["error": "\(error)"])
            exit(1)
        }
    }
}
