// Seed example 2 (baozi.py): a producer and a consumer passing values through switch_to.
// The producer makes baozi 1 to 5 and switches each to the consumer, which eats it and switches
// back asking for the next (switch_to<int>: the value the producer sends next).
#include <cogent/greenlet.hpp>

#include <cstdio>

cogent::greenlet gr1, gr2;

void consumer(int n) {
    std::puts("--->starting eating baozi...");
    while (true) {
        std::printf("eating baozi %d\n", n);
        n = gr2.switch_to<int>();
    }
}

void producer() {
    int n = 0;
    while (n < 5) {
        n += 1;
        std::printf("\033[32;1m[producer]\033[0m is making baozi %d\n", n);
        gr1.switch_to(n);
    }
}

int main() {
    gr1 = cogent::greenlet(consumer);
    gr2 = cogent::greenlet(producer);
    gr2.switch_to();
}
