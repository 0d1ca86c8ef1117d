import Foundation

/// Process-wide settings every Karbonetes executable needs before it opens a socket.
public enum ProcessSetup {
    /// Ignores SIGPIPE, so that writing to a socket the peer closed returns `EPIPE` (which the
    /// server and the client handle) instead of killing the process. Idempotent and cheap: the
    /// server and the client both call it.
    public static func ignoreSIGPIPE() {
        _ = sigpipeIgnored
    }

    private static let sigpipeIgnored: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return true
    }()
}
