# complete_fish.fish SCRIPT: for each command line read from stdin, prints
# what fish, with SCRIPT loaded, completes at its end (complete -C, fish's
# own completion engine): the candidates, sorted, one per line, then a line
# "----".
source $argv[1]
or exit 1
while read -l line
    complete -C"$line" | string replace -r '\t.*' '' | env LC_ALL=C sort
    echo ----
end
