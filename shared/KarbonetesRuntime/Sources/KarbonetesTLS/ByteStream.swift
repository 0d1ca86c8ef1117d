/// A connection's bytes, plain or through TLS, read and written with deadlines on the thread
/// that owns it. The HTTP server and client are written once against this.
package protocol ByteStream: AnyObject {
    var socket: Socket { get }
    /// Input already received and not yet returned (decrypted TLS records), so a read will not
    /// wait for the socket.
    var hasBufferedInput: Bool { get }
    /// Reads some bytes; 0 means the peer closed.
    func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline) throws -> Int
    func write(_ bytes: UnsafeRawBufferPointer, deadline: Deadline) throws
    /// Ends the stream politely (TLS close_notify) and closes the socket.
    func close(deadline: Deadline)
    /// Like ``close(deadline:)``, but lingers so that a response written just before reaches a
    /// peer that is still sending (a 413 while the body arrives).
    func closeAfterError()
}

extension ByteStream {
    package func write(_ bytes: [UInt8], deadline: Deadline) throws {
        try bytes.withUnsafeBytes { try write($0, deadline: deadline) }
    }
}

package final class PlainStream: ByteStream {
    package let socket: Socket

    package init(socket: Socket) { self.socket = socket }

    package var hasBufferedInput: Bool { false }

    package func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline) throws -> Int {
        try socket.read(into: buffer, deadline: deadline)
    }

    package func write(_ bytes: UnsafeRawBufferPointer, deadline: Deadline) throws {
        try socket.write(bytes, deadline: deadline)
    }

    package func close(deadline: Deadline) { socket.close() }

    package func closeAfterError() { socket.lingeringClose() }
}

/// TLS over a socket: a ``TLSConnection`` whose ciphertext this stream moves to and from the
/// socket.
package final class TLSStream: ByteStream {
    package let socket: Socket
    package let connection: TLSConnection
    private var scratch = [UInt8](repeating: 0, count: 32 * 1024)

    package init(socket: Socket, connection: TLSConnection) {
        self.socket = socket
        self.connection = connection
    }

    package var hasBufferedInput: Bool { connection.hasBufferedInput }

    package func handshake(deadline: Deadline) throws {
        do {
            while try !connection.handshake() {
                try flush(deadline: deadline)
                guard try fill(deadline: deadline) else {
                    throw TLSError.handshakeFailed(peer: socket.peer, reason: "peer closed the connection during the handshake")
                }
            }
            try flush(deadline: deadline)
        } catch let error as TLSError {
            // Send the alert OpenSSL queued (protocol_version, bad_certificate, …), so the peer
            // learns why instead of seeing the connection drop.
            try? flush(deadline: min(deadline, .after(.milliseconds(100))))
            throw error
        }
    }

    package func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline) throws -> Int {
        while true {
            switch try connection.read(into: buffer) {
            case .bytes(let count):
                if connection.hasOutput { try flush(deadline: deadline) }
                return count
            case .closed:
                return 0
            case .wantRead:
                if connection.hasOutput { try flush(deadline: deadline) }
                guard try fill(deadline: deadline) else { return 0 }
            }
        }
    }

    package func write(_ bytes: UnsafeRawBufferPointer, deadline: Deadline) throws {
        try connection.write(bytes)
        try flush(deadline: deadline)
    }

    package func close(deadline: Deadline) {
        connection.close()
        try? flush(deadline: deadline)
        socket.close()
    }

    package func closeAfterError() {
        connection.close()
        try? flush(deadline: .after(.milliseconds(200)))
        socket.lingeringClose()
    }

    private func flush(deadline: Deadline) throws {
        while connection.hasOutput {
            let output = connection.takeOutput()
            try socket.write(output, deadline: deadline)
        }
    }

    /// Moves ciphertext from the socket into the session; false when the peer closed.
    private func fill(deadline: Deadline) throws -> Bool {
        let count = try scratch.withUnsafeMutableBytes { try socket.read(into: $0, deadline: deadline) }
        guard count > 0 else { return false }
        scratch.withUnsafeBytes { connection.receive(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        return true
    }
}
