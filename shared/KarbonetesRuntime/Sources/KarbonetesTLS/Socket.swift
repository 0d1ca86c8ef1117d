import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A point in monotonic time by which an I/O step must finish; `never` for none.
package struct Deadline: Sendable, Comparable {
    package let uptimeNanoseconds: UInt64

    package static var now: Deadline { Deadline(uptimeNanoseconds: DispatchTime.now().uptimeNanoseconds) }
    package static let never = Deadline(uptimeNanoseconds: .max)

    package static func after(_ duration: Duration) -> Deadline {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = max(0, seconds) * 1_000_000_000 + max(0, attoseconds) / 1_000_000_000
        return Deadline(uptimeNanoseconds: DispatchTime.now().uptimeNanoseconds &+ UInt64(nanoseconds))
    }

    package var hasPassed: Bool { self != .never && DispatchTime.now().uptimeNanoseconds >= uptimeNanoseconds }

    /// For `poll`: -1 for no deadline, 0 once passed.
    package var pollTimeout: Int32 {
        if self == .never { return -1 }
        let now = DispatchTime.now().uptimeNanoseconds
        guard uptimeNanoseconds > now else { return 0 }
        return Int32(min((uptimeNanoseconds - now + 999_999) / 1_000_000, UInt64(Int32.max)))
    }

    package static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.uptimeNanoseconds < rhs.uptimeNanoseconds }
}

/// A socket failure, naming the peer and the step that failed.
package struct SocketError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        case resolve
        case connect
        case timedOut
        case closed
        case io
        case listen
    }

    package let kind: Kind
    package let peer: String
    package let detail: String

    package init(_ kind: Kind, peer: String, detail: String) {
        self.kind = kind
        self.peer = peer
        self.detail = detail
    }

    static func errno(_ kind: Kind, peer: String, _ step: String) -> SocketError {
        SocketError(kind, peer: peer, detail: "\(step): \(String(cString: strerror(Glibc.errno)))")
    }

    package var description: String {
        switch kind {
        case .resolve: "cannot resolve \(peer): \(detail)"
        case .connect: "cannot connect to \(peer): \(detail)"
        case .timedOut: "\(detail) with \(peer) timed out"
        case .closed: "connection with \(peer) closed: \(detail)"
        case .io: "I/O with \(peer) failed: \(detail)"
        case .listen: "cannot listen on \(peer): \(detail)"
        }
    }
}

/// A non-blocking TCP socket used with blocking semantics on a dedicated thread: each read or
/// write waits in `poll` until its deadline, so a silent peer can hold a thread only that long.
///
/// Only its owning thread closes it; other threads call ``shutdown()``, which wakes the owner
/// without the risk of a reused descriptor.
package final class Socket: @unchecked Sendable {
    package let fd: Int32
    /// `host:port` of the other side (or of the listening address).
    package let peer: String
    private let isClosed = Atomic<Bool>(false)

    init(fd: Int32, peer: String) {
        self.fd = fd
        self.peer = peer
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }

    deinit { close() }

    private func setNoDelay() {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// TCP keep-alive probes after 30 s of silence, so that a watch on a connection whose peer
    /// vanished (a node gone, a NAT entry dropped) fails within about a minute instead of never.
    private func enableKeepAlive() {
        var one: Int32 = 1
        var idle: Int32 = 30
        var interval: Int32 = 10
        var count: Int32 = 3
        let size = socklen_t(MemoryLayout<Int32>.size)
        _ = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, size)
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, size)
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, &interval, size)
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, &count, size)
    }

    /// Binds and listens; port 0 picks a free port, returned with the socket.
    package static func listen(host: String, port: Int, backlog: Int32 = 1024) throws -> (Socket, Int) {
        let name = "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let bindHost = host.isEmpty || host == "*" ? nil : host
        let status = getaddrinfo(bindHost, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw SocketError(.resolve, peer: name, detail: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(result) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError.errno(.listen, peer: name, "socket") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let error = SocketError.errno(.listen, peer: name, "bind")
            Glibc.close(fd)
            throw error
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let error = SocketError.errno(.listen, peer: name, "listen")
            Glibc.close(fd)
            throw error
        }
        let socket = Socket(fd: fd, peer: name)
        return (socket, socket.localPort)
    }

    package var localPort: Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Socket.describe(storage).port
    }

    /// Accepts one pending connection, or nil when none is waiting.
    package func accept() throws -> Socket? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let client = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(fd, $0, &length) }
        }
        if client < 0 {
            switch errno {
            case EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED, EPROTO: return nil
            default: throw SocketError.errno(.io, peer: peer, "accept")
            }
        }
        let address = Socket.describe(storage)
        let socket = Socket(fd: client, peer: "\(address.host):\(address.port)")
        socket.setNoDelay()
        return socket
    }

    /// Resolves and connects, trying each address until one answers, within `deadline`.
    package static func connect(host: String, port: Int, deadline: Deadline) throws -> Socket {
        let name = "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let lookupHost = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let status = getaddrinfo(lookupHost, String(port), &hints, &result)
        guard status == 0 else { throw SocketError(.resolve, peer: name, detail: String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(result) }
        var lastError = SocketError(.connect, peer: name, detail: "no address")
        var candidate = result
        while let address = candidate {
            candidate = address.pointee.ai_next
            let fd = Glibc.socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else {
                lastError = SocketError.errno(.connect, peer: name, "socket")
                continue
            }
            let socket = Socket(fd: fd, peer: name)
            socket.enableKeepAlive()
            if Glibc.connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 {
                socket.setNoDelay()
                return socket
            }
            guard errno == EINPROGRESS else {
                lastError = SocketError.errno(.connect, peer: name, "connect")
                continue
            }
            var pollDescriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&pollDescriptor, 1, deadline.pollTimeout)
            if ready == 0 {
                throw SocketError(.timedOut, peer: name, detail: "connect")
            }
            var socketError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length)
            if ready > 0 && socketError == 0 {
                socket.setNoDelay()
                return socket
            }
            lastError = SocketError(.connect, peer: name, detail: String(cString: strerror(socketError)))
        }
        throw lastError
    }

    package enum WaitResult: Equatable {
        case readable
        /// One of the other descriptors became readable (a wake-up pipe).
        case woken(Int32)
        case timedOut
    }

    /// Waits until the socket is readable (or closed by the peer), one of `others` is readable,
    /// or the deadline passes.
    package func waitReadable(until deadline: Deadline, alsoWatching others: [Int32] = []) -> WaitResult {
        var descriptors = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
        for other in others { descriptors.append(pollfd(fd: other, events: Int16(POLLIN), revents: 0)) }
        while true {
            let ready = poll(&descriptors, nfds_t(descriptors.count), deadline.pollTimeout)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { return ready == 0 ? .timedOut : .readable }
            if descriptors[0].revents != 0 { return .readable }
            for descriptor in descriptors.dropFirst() where descriptor.revents != 0 { return .woken(descriptor.fd) }
            return .readable
        }
    }

    /// Reads what is there (waiting until the deadline for something); 0 means the peer closed.
    package func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline) throws -> Int {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            switch errno {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&descriptor, 1, deadline.pollTimeout)
                if ready == 0 { throw SocketError(.timedOut, peer: peer, detail: "read") }
            case ECONNRESET, EPIPE, ENOTCONN:
                return 0
            default:
                throw SocketError.errno(.io, peer: peer, "read")
            }
        }
    }

    /// Writes every byte, waiting for the peer to take them until the deadline.
    package func write(_ bytes: UnsafeRawBufferPointer, deadline: Deadline) throws {
        var offset = 0
        while offset < bytes.count {
            let count = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if count >= 0 {
                offset += count
                continue
            }
            switch errno {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&descriptor, 1, deadline.pollTimeout)
                if ready == 0 { throw SocketError(.timedOut, peer: peer, detail: "write") }
            case ECONNRESET, EPIPE, ENOTCONN:
                throw SocketError(.closed, peer: peer, detail: "peer went away during write")
            default:
                throw SocketError.errno(.io, peer: peer, "write")
            }
        }
    }

    package func write(_ bytes: [UInt8], deadline: Deadline) throws {
        try bytes.withUnsafeBytes { try write($0, deadline: deadline) }
    }

    /// True when the peer has closed or sent bytes: a pooled connection that is readable while
    /// idle cannot be reused.
    package var isReadableNow: Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) != 0
    }

    /// Wakes any thread blocked on this socket; safe from any thread.
    package func shutdown() {
        if !isClosed.load(ordering: .acquiring) { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// Closes after an error response without losing it: stops sending, then reads and drops
    /// what the peer still sends for a moment, since closing with unread input makes the kernel
    /// reset the connection and the peer may never see the response.
    package func lingeringClose(for duration: Duration = .milliseconds(500), maxBytes: Int = 1 << 20) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        let deadline = Deadline.after(duration)
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        var total = 0
        while total < maxBytes, !deadline.hasPassed {
            let count = (try? scratch.withUnsafeMutableBytes { try read(into: $0, deadline: deadline) }) ?? 0
            if count <= 0 { break }
            total += count
        }
        close()
    }

    /// Closes the descriptor once; only the owning thread calls this.
    package func close() {
        if isClosed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged {
            _ = Glibc.close(fd)
        }
    }

    static func describe(_ storage: sockaddr_storage) -> (host: String, port: Int) {
        var storage = storage
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let length = socklen_t(storage.ss_family == sa_family_t(AF_INET6) ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let status = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), &service, socklen_t(service.count), NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard status == 0 else { return ("?", 0) }
        let hostText = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let serviceText = String(decoding: service.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (hostText, Int(serviceText) ?? 0)
    }
}

/// A pipe used to wake threads blocked in `poll`: a signal stays readable until drained, so
/// every thread that watches it sees it (a shutdown), or one reader drains it (a mailbox).
package final class WakePipe: @unchecked Sendable {
    package let readFD: Int32
    private let writeFD: Int32

    package init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe() failed: \(String(cString: strerror(errno)))")
        readFD = fds[0]
        writeFD = fds[1]
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
    }

    deinit {
        Glibc.close(readFD)
        Glibc.close(writeFD)
    }

    package func signal() {
        var byte: UInt8 = 1
        _ = Glibc.write(writeFD, &byte, 1)
    }

    package func drain() {
        var scratch = [UInt8](repeating: 0, count: 64)
        while Glibc.read(readFD, &scratch, scratch.count) > 0 {}
    }
}
