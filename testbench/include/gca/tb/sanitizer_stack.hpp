// AddressSanitizer does not see SystemC's coroutine switches (Debian's libsystemc carries no
// fiber annotations), so after sc_start() it may hold wrong bounds for the main stack: an
// exception thrown then makes it warn and report false stack errors. Calling this once the
// simulation has returned tells it the main thread's real stack. A no-op without ASan.
#pragma once

namespace gca::tb {

void resync_sanitizer_stack();

}  // namespace gca::tb
