// Gives a container's memory back to the allocator: clear() and `= {}` keep the capacity.
#pragma once

namespace ruvicorn {

template <typename Container>
void free_memory(Container& c) {
  Container().swap(c);
}

}  // namespace ruvicorn
