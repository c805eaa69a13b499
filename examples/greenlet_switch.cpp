// Seed example 1 (greenlet_switch.py): explicit switching between two functions.
// Prints 12, 56, 34, 78: each switch_to suspends one function mid-way and resumes the other.
#include <cogent/greenlet.hpp>

#include <cstdio>

cogent::greenlet gr1, gr2;

void t1() {
    std::puts("12");
    gr2.switch_to();
    std::puts("34");
    gr2.switch_to();
}

void t2() {
    std::puts("56");
    gr1.switch_to();
    std::puts("78");
}

int main() {
    gr1 = cogent::greenlet(t1);
    gr2 = cogent::greenlet(t2);
    gr1.switch_to();
}
